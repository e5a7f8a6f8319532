using System.Text.Json.Nodes;
using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Augment.Cuda.Reference;

/// <summary>nvJPEG against libjpeg-turbo: whole images (hardware and hybrid) and train-crop regions of interest. Goal: PSNR at least 40 dB.</summary>
internal static class DecodeChecks
{
    public static JsonObject FullAndRegion(CudaDevice device, string[] files, ReadOnlyMemory<byte>[] jpegs)
    {
        using var cpu = new CpuSampleDecoder();
        using var regions = new CpuRegionDecoder();
        var infos = jpegs.Select(j => cpu.ReadHeader(j.Span)).ToArray();
        var references = jpegs.Select((j, i) => regions.Decode(j.Span, WholeImage(infos[i])).Pixels).ToArray();
        var result = new JsonObject();
        foreach (var hardware in new[] { true, false })
        {
            using var decoder = new NvJpegBatchDecoder(device, new GpuDecodeOptions { UseHardwareDecoder = hardware });
            var name = hardware ? "hardware_preferred" : "hybrid_only";
            result[name] = Compare(device, decoder, files, jpegs, [.. infos.Select(WholeImage)], (i, region) => references[i]);
            if (hardware)
            {
                result["hardware_available"] = decoder.HasHardwareDecoder;
                result["hardware_unavailable_reason"] = decoder.HardwareUnavailableReason;
            }

            // Region of interest: each train crop against the same crop cut from libjpeg-turbo's whole image.
            var planner = new SamplePlanner(new AugmentOptions());
            var plans = infos.Select((info, i) => planner.PlanTrain(11, 0, i, info.Width, info.Height)).ToArray();
            result[name + "_roi"] = Compare(device, decoder, files, jpegs, plans, (i, region) => Cut(references[i], infos[i].Width, region));
        }

        return result;
    }

    private static SamplePlan WholeImage(ImageInfo info) => new(new CropWindow(0, 0, info.Width, info.Height), false, info.Width, info.Height);

    private static byte[] Cut(byte[] image, int imageWidth, CropWindow region)
    {
        var cut = new byte[region.Width * region.Height * 3];
        for (var y = 0; y < region.Height; y++)
        {
            image.AsSpan((((region.Y + y) * imageWidth) + region.X) * 3, region.Width * 3).CopyTo(cut.AsSpan(y * region.Width * 3));
        }

        return cut;
    }

    private static JsonObject Compare(CudaDevice device, NvJpegBatchDecoder decoder, string[] files, ReadOnlyMemory<byte>[] jpegs, SamplePlan[] plans,
        Func<int, CropWindow, byte[]> reference)
    {
        using var arena = new StagingArena(device);
        using var stream = device.CreateStream();
        var results = new DecodedRegion[jpegs.Length];
        decoder.Decode(jpegs, plans, results, arena, stream);
        stream.Synchronize();
        var psnrs = new List<double>();
        var below = new JsonArray();
        var routes = new Dictionary<DecodeRoute, int>();
        for (var i = 0; i < jpegs.Length; i++)
        {
            var r = results[i];
            routes[r.Route] = routes.GetValueOrDefault(r.Route) + 1;
            if (r.Route == DecodeRoute.CpuFallback)
            {
                continue;
            }

            var gpu = new byte[r.Pitch * r.Region.Height];
            DeviceBuffer.CopyToHost(r.Pixels, gpu, stream);
            var psnr = SampleComparison.Psnr(gpu, reference(i, r.Region));
            psnrs.Add(psnr);
            if (psnr < 40)
            {
                below.Add($"{Path.GetFileName(files[i])} ({r.Route}, {r.Region}): {psnr:F1} dB");
            }
        }

        return new JsonObject
        {
            ["routes"] = new JsonObject([.. routes.Select(kv => KeyValuePair.Create(kv.Key.ToString(), (JsonNode?)kv.Value))]),
            ["psnr_min_db"] = psnrs.Count > 0 ? Math.Round(psnrs.Where(double.IsFinite).DefaultIfEmpty(999).Min(), 2) : null,
            ["psnr_mean_db"] = psnrs.Count > 0 ? Math.Round(psnrs.Where(double.IsFinite).DefaultIfEmpty(999).Average(), 2) : null,
            ["identical"] = psnrs.Count(double.IsPositiveInfinity),
            ["below_40_db"] = below,
            ["pass"] = psnrs.Count > 0 && below.Count == 0,
        };
    }
}
