using Loader.Augment;

namespace Loader.Tools.Fuzz;

/// <summary>
/// The <c>sample</c> target: one sample as a loader worker makes it out of an untrusted record's JPEG. The header
/// read, a plan, the splice of the restart intervals the crop covers (<c>JpegFrame</c>, <c>JpegSplicer</c>), the shim's
/// decode, the resize and the store (<see cref="CpuSampleDecoder.Process(ReadOnlySpan{byte}, ImageInfo, in SamplePlan, OutputSpec, Span{byte})"/>).
/// An <see cref="ImageDecodeException"/> with a reason is the one bad-sample outcome (the loader skips and reports
/// it); anything else that escapes would end a loader's run, and a crash in the native decoder ends the process:
/// both are findings. The first byte is a mode byte: bit 0 picks the evaluation transform, the other bits seed the
/// training crop and flip, so mutations move the crop over the image.
/// </summary>
public static class SampleTarget
{
    /// <summary>
    /// Headers that claim more are skipped, as the loader skips them past LoaderOptions.MaxPixels: the default limit
    /// (179 megapixels) lets a decode allocate more than the fuzzer's heap limit, and the fuzzer looks for bugs, not
    /// for that documented limit. 16 megapixels still holds every real ImageNet image.
    /// </summary>
    private const long MaxPixels = 16L << 20;

    private static readonly SamplePlanner Planner = new(new AugmentOptions { OutputSize = 64, EvalResize = 73 });
    private static readonly OutputSpec Spec = OutputSpec.ImageNet(64);

    [ThreadStatic]
    private static CpuSampleDecoder? t_decoder;

    [ThreadStatic]
    private static byte[]? t_output;

    public static void Run(byte[] input) => Decode(input);

    /// <summary>Runs the input; true when it decoded into a sample, false when it was skipped or refused as bad.</summary>
    public static bool Decode(byte[] input)
    {
        if (input.Length < 2)
        {
            return false;
        }

        byte mode = input[0];
        ReadOnlySpan<byte> jpeg = input.AsSpan(1);
        // One decoder per thread, reused from input to input as a worker reuses its own: state one image leaves
        // behind must not change the next one's outcome.
        CpuSampleDecoder decoder = t_decoder ??= new CpuSampleDecoder { StreamingStores = true };
        byte[] output = t_output ??= new byte[Spec.BytesPerSample];
        ImageInfo info;
        try
        {
            info = decoder.ReadHeader(jpeg);
        }
        catch (ImageDecodeException e)
        {
            RequireReason(e);
            return false;
        }

        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > MaxPixels)
        {
            return false;
        }

        SamplePlan plan = (mode & 1) != 0
            ? Planner.PlanEval(info.Width, info.Height)
            : Planner.PlanTrain((ulong)(mode >> 1), epoch: 0, sampleId: 0, info.Width, info.Height);
        try
        {
            decoder.Process(jpeg, info, plan, Spec, output);
        }
        catch (ImageDecodeException e)
        {
            RequireReason(e);
            return false;
        }

        foreach (float value in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(output))
        {
            if (!float.IsFinite(value))
            {
                throw new FuzzFindingException($"sample: decoded to a non-finite value ({value})");
            }
        }

        return true;
    }

    private static void RequireReason(ImageDecodeException e)
    {
        if (string.IsNullOrWhiteSpace(e.Message))
        {
            throw new FuzzFindingException("sample: refused without saying why");
        }
    }
}
