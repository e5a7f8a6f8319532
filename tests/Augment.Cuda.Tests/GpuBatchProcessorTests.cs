using Loader.Augment.Cuda.Reference;

namespace Loader.Augment.Cuda.Tests;

/// <summary>On the device: nvJPEG + kernel end to end against the CPU path, the CPU fallback, and the decoders against libjpeg-turbo.</summary>
public sealed class GpuBatchProcessorTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ProcessBatch_MatchesTheCpuPath_AndFallsBackForWhatNvJpegRejects(bool hardware)
    {
        Fixture.RequireGpu();
        var spec = OutputSpec.ImageNet(224, PixelType.UInt8, PixelLayout.Nhwc);
        var planner = new SamplePlanner(new AugmentOptions());
        using var device = CudaDevice.Open();
        using var processor = new GpuBatchProcessor(device, spec, 64, new GpuDecodeOptions { UseHardwareDecoder = hardware, HybridThreads = 2 });
        using var cpu = new CpuSampleDecoder();
        var files = Fixture.Images();
        var jpegs = files.Select(f => (ReadOnlyMemory<byte>)File.ReadAllBytes(f)).ToList();
        var plans = jpegs.Select((j, i) =>
        {
            var info = cpu.ReadHeader(j.Span);
            return planner.PlanTrain(3, 0, i, info.Width, info.Height);
        }).ToArray();
        using var output = device.Allocate((long)jpegs.Count * spec.BytesPerSample);

        // The consumer protocol the trainer follows: libtorch's stream waits for the batch, records when it is done
        // reading, and the next write of the slot waits for that.
        using var consumerDone = device.CreateEvent();
        var written = processor.ProcessBatch(jpegs, plans, output.Pointer);
        device.DefaultStreamWait(written);
        device.RecordOnDefaultStream(consumerDone);
        processor.ProcessBatch(jpegs, plans, output.Pointer, consumerDone.Pointer).Synchronize();

        var stats = processor.LastBatch;
        Assert.Equal(jpegs.Count, stats.Hardware + stats.Hybrid + stats.CpuFallback);
        Assert.True(stats.CpuFallback >= 1, "the arithmetic-coded fixture must go to the CPU fallback");
        var batch = new byte[jpegs.Count * spec.BytesPerSample];
        output.CopyToHost(batch, processor.Stream);
        var expected = new byte[spec.BytesPerSample];
        for (var i = 0; i < jpegs.Count; i++)
        {
            cpu.Process(jpegs[i].Span, plans[i], spec, expected);
            var psnr = SampleComparison.Psnr(batch.AsSpan(i * spec.BytesPerSample, spec.BytesPerSample), expected);
            // Different decoders (nvJPEG's IDCT, full-resolution vs DCT-scaled decode) differ a little; a wrong crop,
            // flip or channel order costs far more than 10 dB.
            Assert.True(psnr >= 28, $"{Path.GetFileName(files[i])}: PSNR {psnr:F1} dB against the CPU path");
        }
    }

    [Fact]
    public void NvJpegFullDecode_MatchesLibjpegTurbo_Psnr40()
    {
        Fixture.RequireGpu();
        using var device = CudaDevice.Open();
        using var decoder = new NvJpegBatchDecoder(device, new GpuDecodeOptions { HybridThreads = 1 });
        using var arena = new StagingArena(device);
        using var stream = device.CreateStream();
        using var cpu = new CpuSampleDecoder();
        using var regions = new CpuRegionDecoder();
        foreach (var file in Fixture.Images())
        {
            var jpeg = File.ReadAllBytes(file);
            var info = cpu.ReadHeader(jpeg);
            var whole = new SamplePlan(new CropWindow(0, 0, info.Width, info.Height), false, info.Width, info.Height);
            var results = new DecodedRegion[1];
            decoder.Decode([jpeg], [whole], results, arena, stream);
            if (results[0].Route == DecodeRoute.CpuFallback)
            {
                continue;  // arithmetic coding, CMYK...: nvJPEG declines, the CPU path handles it
            }

            var gpu = ToHost(results[0], stream);
            var (reference, _) = regions.Decode(jpeg, whole);
            var psnr = SampleComparison.Psnr(gpu, reference);
            Assert.True(psnr >= 40, $"{Path.GetFileName(file)} ({results[0].Route}): PSNR {psnr:F1} dB < 40");
        }
    }

    /// <summary>
    /// The contract the loader relies on: once Decode returns, the JPEG bytes may change (the loader reuses its read
    /// buffers, the splicers their sub-JPEGs). The GPU may still be decoding then, so nvJPEG must work from copies:
    /// here the inputs are overwritten before the GPU is waited for, two batches in a row (the second reuses what
    /// the first decode held), and the pixels must still be those of a decode of the intact files.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Decode_InputsOverwrittenOnceItReturns_StillDecodesTheOriginalBytes(bool hardware)
    {
        Fixture.RequireGpu();
        using var device = CudaDevice.Open();
        using var decoder = new NvJpegBatchDecoder(device, new GpuDecodeOptions { UseHardwareDecoder = hardware, HybridThreads = 1 });
        using var reference = new NvJpegBatchDecoder(device, new GpuDecodeOptions { UseHardwareDecoder = hardware, HybridThreads = 1 });
        using var arenaA = new StagingArena(device);
        using var arenaB = new StagingArena(device);
        using var stream = device.CreateStream();
        using var cpu = new CpuSampleDecoder();
        var files = Fixture.Images().Where(f => Path.GetFileName(f).StartsWith('n')).ToArray();
        var originals = files.Select(File.ReadAllBytes).ToArray();
        var plans = originals.Select(j =>
        {
            var info = cpu.ReadHeader(j);
            return new SamplePlan(new CropWindow(0, 0, info.Width, info.Height), false, info.Width, info.Height);
        }).ToArray();

        // The second batch takes the files in reverse order, so that every staged copy, offset and parameter it
        // writes differs from what the first batch's decode may still be reading.
        var orders = new[] { Enumerable.Range(0, files.Length).ToArray(), Enumerable.Range(0, files.Length).Reverse().ToArray() };
        var copies = orders.Select(order => order.Select(i => originals[i].ToArray()).ToArray()).ToArray();
        var results = new[] { new DecodedRegion[files.Length], new DecodedRegion[files.Length] };
        var arenas = new[] { arenaA, arenaB };
        for (var batch = 0; batch < 2; batch++)
        {
            var batchPlans = orders[batch].Select(i => plans[i]).ToArray();
            decoder.Decode(copies[batch].Select(b => (ReadOnlyMemory<byte>)b).ToList(), batchPlans, results[batch], arenas[batch], stream);
            foreach (var bytes in copies[batch])
            {
                Array.Fill(bytes, (byte)0xA5);  // before the GPU is waited for
            }
        }

        // Both batches' pixels to the host first (the copies wait for the stream), then the intact files decoded alone.
        var got = Enumerable.Range(0, 2).Select(batch => results[batch].Select((r, j) =>
            r.Route == DecodeRoute.CpuFallback ? null : ToHost(r, stream)).ToArray()).ToArray();
        using var referenceArena = new StagingArena(device);
        int compared = 0, comparedOnHardware = 0;
        for (var i = 0; i < files.Length; i++)
        {
            var expected = new DecodedRegion[1];
            reference.Decode([originals[i]], [plans[i]], expected, referenceArena, stream);
            var want = expected[0].Route == DecodeRoute.CpuFallback ? null : ToHost(expected[0], stream);
            for (var batch = 0; batch < 2; batch++)
            {
                var j = Array.IndexOf(orders[batch], i);
                var route = results[batch][j].Route;

                // The same decoder on the same bytes gives the same pixels (another route would give others).
                if (got[batch][j] is { } pixels && want is not null && route == expected[0].Route)
                {
                    Assert.True(pixels.AsSpan().SequenceEqual(want),
                        $"batch {batch}, {Path.GetFileName(files[i])} ({route}): the decode read the overwritten bytes");
                    compared++;
                    comparedOnHardware += route == DecodeRoute.Hardware ? 1 : 0;
                }
            }
        }

        Assert.True(compared > 0, "no decoded image could be compared with its reference");
        if (hardware && decoder.HasHardwareDecoder)
        {
            Assert.True(comparedOnHardware > 0, "no image went through the hardware engine in both decodes");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Decode_SplicedCrops_MatchTheWholeJpegsRegionDecode(bool hardware)
    {
        Fixture.RequireGpu();
        using var device = CudaDevice.Open();
        var options = new GpuDecodeOptions { UseHardwareDecoder = hardware, HybridThreads = 1 };
        using var spliced = new NvJpegBatchDecoder(device, options);
        using var unspliced = new NvJpegBatchDecoder(device, options with { SpliceRestartIntervals = false });
        using var arena = new StagingArena(device);
        using var stream = device.CreateStream();
        using var cpu = new CpuSampleDecoder();
        var planner = new SamplePlanner(new AugmentOptions());
        long splicedSamples = 0;
        foreach (var file in Fixture.Images().Where(f => Path.GetFileName(f).StartsWith('n')))
        {
            var jpeg = Loader.Augment.Jpeg.RestartTranscoder.Transcode(File.ReadAllBytes(file), Loader.Augment.Jpeg.RestartMode.Auto);
            var info = cpu.ReadHeader(jpeg);
            for (var i = 0; i < 4; i++)
            {
                var plan = planner.PlanTrain(5, 0, i, info.Width, info.Height);
                var (a, routeA) = DecodeOne(spliced, jpeg, plan, arena, stream);
                var (b, routeB) = DecodeOne(unspliced, jpeg, plan, arena, stream);
                int differing = a.Zip(b).Count(p => p.First != p.Second);
                var psnr = SampleComparison.Psnr(a, b);
                // Written for every crop (the device script keeps it in tests.xml): whether nvJPEG's chroma upsampling
                // at the sub-image's edges gives the whole JPEG's pixels is what this run is for. The engines may also
                // route a small sub-JPEG differently from the whole file; that is reported, not a failure.
                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"{Path.GetFileName(file)} crop {plan.Crop}: spliced {routeA}, whole {routeB}: {differing} of {a.Length} bytes differ, PSNR {psnr:F1} dB");
                // Within 40 dB in any case: a wrong window or interval costs far more.
                Assert.True(psnr >= 40, $"{Path.GetFileName(file)} crop {plan.Crop} ({routeA} / {routeB}): spliced vs whole PSNR {psnr:F1} dB, {differing} of {a.Length} bytes differ");
            }

            splicedSamples += spliced.TakeSpliceStatistics().SplicedSamples;
        }

        Assert.True(splicedSamples > 0, "no crop was decoded out of a sub-JPEG");
    }

    /// <summary>A decoded region's rows, pitch and all, copied to the host (waits for the stream).</summary>
    private static byte[] ToHost(DecodedRegion region, CudaStream stream)
    {
        var pixels = new byte[region.Pitch * region.Region.Height];
        DeviceBuffer.CopyToHost(region.Pixels, pixels, stream);
        return pixels;
    }

    private static (byte[] Pixels, DecodeRoute Route) DecodeOne(NvJpegBatchDecoder decoder, byte[] jpeg, SamplePlan plan, StagingArena arena, CudaStream stream)
    {
        var results = new DecodedRegion[1];
        decoder.Decode([jpeg], [plan], results, arena, stream);
        Assert.NotEqual(DecodeRoute.CpuFallback, results[0].Route);
        var pitch = results[0].Pitch;
        var pixels = ToHost(results[0], stream);

        // The region's RGB bytes, row by row (StagingArena.PitchFor is 3 * width today; this does not rely on it).
        var row = results[0].Region.Width * 3;
        var compact = new byte[row * results[0].Region.Height];
        for (var y = 0; y < results[0].Region.Height; y++)
        {
            pixels.AsSpan(y * pitch, row).CopyTo(compact.AsSpan(y * row, row));
        }

        return (compact, results[0].Route);
    }
}
