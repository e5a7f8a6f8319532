using System.Runtime.InteropServices;

namespace Loader.Augment.Tests;

public sealed class CpuSampleDecoderTests
{
    private const string Clock = "n03196217_digital_clock.JPEG"; // 500x375, baseline 4:2:0

    [Theory]
    [InlineData(Clock, 500, 375, 3)]
    [InlineData("n02815834_beaker.JPEG", 320, 221, 1)]
    [InlineData("cmyk_257x193.jpg", 257, 193, 4)]
    [InlineData("progressive_301x227.jpg", 301, 227, 3)]
    [InlineData("arithmetic_289x217.jpg", 289, 217, 3)]
    [InlineData("tiny_1x1.jpg", 1, 1, 3)]
    public void ReadHeader_ReturnsSizeAndComponents(string file, int width, int height, int components)
    {
        using var decoder = new CpuSampleDecoder();
        Assert.Equal(new ImageInfo(width, height, components), decoder.ReadHeader(Fixture.ImageBytes(file)));
    }

    [Fact]
    public void Process_AllTypesAndLayouts_AgreeWithTheFloat32ChwResult()
    {
        var jpeg = Fixture.ImageBytes(Clock);
        var plan = new SamplePlan(new CropWindow(37, 21, 300, 250), Flip: true, 64, 64);
        using var decoder = new CpuSampleDecoder();
        var reference = Run(decoder, jpeg, plan, OutputSpec.ImageNet(64, PixelType.Float32, PixelLayout.Nchw));
        var raw = Run(decoder, jpeg, plan, OutputSpec.ImageNet(64, PixelType.UInt8, PixelLayout.Nhwc));
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        foreach (var type in new[] { PixelType.Float32, PixelType.Float16, PixelType.BFloat16 })
        {
            foreach (var layout in new[] { PixelLayout.Nchw, PixelLayout.Nhwc })
            {
                var spec = OutputSpec.ImageNet(64, type, layout);
                var bytes = Run(decoder, jpeg, plan, spec);
                for (var c = 0; c < 3; c++)
                {
                    for (var p = 0; p < 64 * 64; p += 7)
                    {
                        var expected = MemoryMarshal.Cast<byte, float>(reference)[(c * 4096) + p];
                        var index = layout == PixelLayout.Nchw ? (c * 4096) + p : (p * 3) + c;
                        var actual = type switch
                        {
                            PixelType.Float32 => BitConverter.ToSingle(bytes, index * 4),
                            PixelType.Float16 => (float)BitConverter.ToHalf(bytes, index * 2),
                            _ => BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(bytes, index * 2) << 16),
                        };
                        Assert.True(Math.Abs(actual - expected) <= 0.02f, $"{type} {layout} c={c} p={p}: {actual} vs {expected}");

                        // The uint8 output is the same pixel before normalization.
                        var fromRaw = ((raw[(p * 3) + c] / 255f) - mean[c]) / std[c];
                        Assert.True(Math.Abs(fromRaw - expected) <= 0.6f / 255 / std[c], $"uint8 c={c} p={p}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Process_Flip_MirrorsTheUnflippedOutput()
    {
        var jpeg = Fixture.ImageBytes(Clock);
        var spec = OutputSpec.ImageNet(48, PixelType.UInt8, PixelLayout.Nhwc);
        using var decoder = new CpuSampleDecoder();
        var plain = Run(decoder, jpeg, new SamplePlan(new CropWindow(10, 20, 200, 150), false, 48, 48), spec);
        var flipped = Run(decoder, jpeg, new SamplePlan(new CropWindow(10, 20, 200, 150), true, 48, 48), spec);
        for (var y = 0; y < 48; y++)
        {
            for (var x = 0; x < 48; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    Assert.Equal(plain[(((y * 48) + x) * 3) + c], flipped[(((y * 48) + 47 - x) * 3) + c]);
                }
            }
        }
    }

    [Fact]
    public void Process_WhenWarm_AllocatesNothing()
    {
        var jpeg = Fixture.ImageBytes(Clock);
        var spec = OutputSpec.ImageNet();
        var destination = new byte[spec.BytesPerSample];
        var planner = new SamplePlanner(new AugmentOptions());
        using var decoder = new CpuSampleDecoder();
        var full = new SamplePlan(new CropWindow(0, 0, 500, 375), false, 224, 224);
        decoder.Process(jpeg, full, spec, destination); // grows the scratch buffers to their largest
        decoder.Process(jpeg, planner.PlanEval(500, 375), spec, destination);

        // The fewest bytes any pass allocates: one-off runtime work (tiered JIT promoting a hot method) can allocate on
        // this thread once, while an allocation per sample shows in every pass.
        var fewest = long.MaxValue;
        for (var pass = 0; pass < 5 && fewest > 0; pass++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 20; i++)
            {
                var plan = planner.PlanTrain(1, 0, i, 500, 375);
                decoder.Process(jpeg, plan, spec, destination);
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    [Fact]
    public void Process_TruncatedJpeg_ThrowsImageDecodeException()
    {
        var jpeg = Fixture.ImageBytes(Clock);
        var truncated = jpeg.AsSpan(0, jpeg.Length / 2).ToArray();
        using var decoder = new CpuSampleDecoder();
        var plan = new SamplePlan(new CropWindow(0, 0, 500, 375), false, 224, 224);
        var error = Assert.Throws<ImageDecodeException>(() => decoder.Process(truncated, plan, OutputSpec.ImageNet(), new byte[OutputSpec.ImageNet().BytesPerSample]));
        Assert.Contains("Premature end", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ReadHeader_NotAJpeg_ThrowsWithLibjpegsReason()
    {
        using var decoder = new CpuSampleDecoder();
        var error = Assert.Throws<ImageDecodeException>(() => decoder.ReadHeader("\x89PNG\r\n\x1a\n not a jpeg"u8));
        Assert.Contains("Not a JPEG file", error.Message, StringComparison.Ordinal);
        Assert.Throws<ImageDecodeException>(() => decoder.ReadHeader([]));

        // The decoder stays usable after an error.
        Assert.Equal(500, decoder.ReadHeader(Fixture.ImageBytes(Clock)).Width);
    }

    [Fact]
    public void Process_CropOutsideTheImage_ThrowsArgumentException()
    {
        using var decoder = new CpuSampleDecoder();
        var plan = new SamplePlan(new CropWindow(400, 0, 200, 100), false, 224, 224);
        var error = Assert.Throws<ArgumentException>(() => decoder.Process(Fixture.ImageBytes(Clock), plan, OutputSpec.ImageNet(), new byte[OutputSpec.ImageNet().BytesPerSample]));
        Assert.Contains("500x375", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Process_DestinationTooSmall_Throws()
    {
        using var decoder = new CpuSampleDecoder();
        var plan = new SamplePlan(new CropWindow(0, 0, 100, 100), false, 224, 224);
        Assert.Throws<ArgumentException>(() => decoder.Process(Fixture.ImageBytes(Clock), plan, OutputSpec.ImageNet(), new byte[100]));
    }

    private static byte[] Run(CpuSampleDecoder decoder, byte[] jpeg, SamplePlan plan, OutputSpec spec)
    {
        var destination = new byte[spec.BytesPerSample];
        decoder.Process(jpeg, plan, spec, destination);
        return destination;
    }
}
