using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Reference;

/// <summary>
/// Runs the GPU kernel on pixels supplied from the host (e.g. <see cref="CpuRegionDecoder"/>'s) and brings the batch
/// back: how the tests and the device check hold the kernel to the CPU path with the decoder taken out of the picture.
/// </summary>
internal sealed class KernelHarness(CudaDevice device) : IDisposable
{
    private readonly AugmentKernel _kernel = new(device);
    private readonly CudaStream _stream = device.CreateStream();

    /// <summary>Uploads each region, launches once for the whole batch, returns the batch's bytes (count * BytesPerSample).</summary>
    public byte[] Run(IReadOnlyList<(byte[] Pixels, GpuSampleParams Parameters)> samples, OutputSpec spec)
    {
        var offsets = new long[samples.Count];
        long total = 0;
        for (var i = 0; i < samples.Count; i++)
        {
            offsets[i] = total;
            total += StagingArena.Align(samples[i].Pixels.Length);
        }

        using var regions = device.Allocate(Math.Max(total, 1));
        using var parameters = device.Allocate(samples.Count * Marshal.SizeOf<GpuSampleParams>());
        using var output = device.Allocate((long)samples.Count * spec.BytesPerSample);
        var packed = new GpuSampleParams[samples.Count];
        for (var i = 0; i < samples.Count; i++)
        {
            regions.CopyFromHost(samples[i].Pixels, _stream, offsets[i]);
            packed[i] = samples[i].Parameters with { Source = (ulong)(regions.Pointer + (nint)offsets[i]) };
        }

        parameters.CopyFromHost(MemoryMarshal.AsBytes(packed.AsSpan()), _stream);
        _kernel.Launch(PlanPacker.PackBatch(spec, samples.Count, parameters.Pointer, output.Pointer), _stream);
        var result = new byte[samples.Count * spec.BytesPerSample];
        output.CopyToHost(result, _stream);
        return result;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _kernel.Dispose();
    }
}
