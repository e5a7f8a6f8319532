using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Loader.Augment;
using Loader.Pipeline;
using Loader.Records;

namespace Loader.Tools.Bench;

/// <summary>
/// <c>loader-bench preview</c>: writes what the model is fed for the first N samples of epoch 0, as
/// <c>NNNN.png</c> (the 224x224 uint8 RGB sample exactly as produced, before normalization) and <c>NNNN.json</c>
/// (sample_id, file, label, crop [x, y, width, height] in source pixels, flip).
/// <list type="bullet">
/// <item>A records directory (<c>*.tfrecord</c> shards): the samples come out of <see cref="DataLoader"/> itself, in the
/// loader's epoch-0 order, with a uint8 HWC output; the crop and flip are recomputed with the same planner call the
/// loader makes.</item>
/// <item>A folder of JPEGs (flat, or one subfolder per class): files sorted by path are sample ids 0..N-1 and epoch 0
/// takes them in that order; labels index the sorted class names (subfolder, or the file-name prefix before '_').</item>
/// </list>
/// </summary>
public static class PreviewCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static int Run(string dataDir, int count, string outDir, ulong seed, bool eval)
    {
        if (!Directory.Exists(dataDir))
        {
            Console.Error.WriteLine($"preview: data directory not found: {dataDir}");
            return ExitCodes.Usage;
        }

        if (count <= 0)
        {
            Console.Error.WriteLine($"preview: --count must be positive (got {count})");
            return ExitCodes.Usage;
        }

        Directory.CreateDirectory(outDir);
        var written = Directory.EnumerateFiles(dataDir, "*.tfrecord").Any()
            ? FromRecords(dataDir, count, outDir, seed, eval)
            : FromImageFolder(dataDir, count, outDir, seed, eval);
        Console.WriteLine($"preview: wrote {written} samples to {Path.GetFullPath(outDir)}");
        return written > 0 ? 0 : 1;
    }

    private static int FromRecords(string dataDir, int count, string outDir, ulong seed, bool eval)
    {
        var spec = OutputSpec.ImageNet(224, PixelType.UInt8, PixelLayout.Nhwc);
        var augment = new AugmentOptions();
        var planner = new SamplePlanner(augment);
        using var dataset = RecordDataset.Open(dataDir);
        using var decoder = new CpuSampleDecoder();
        using var loader = DataLoader.Create(new LoaderOptions
        {
            DataDirectory = dataDir,
            BatchSize = Math.Min(count, 64),
            Threads = Math.Min(Environment.ProcessorCount, 4),
            Seed = seed,
            Train = !eval,
            Augment = augment,
            Output = spec,
            LastBatch = LastBatchPolicy.Partial,
        });

        var buffer = Array.Empty<byte>();
        var written = 0;
        foreach (HostBatch batch in loader)
        {
            using (batch)
            {
                for (var i = 0; i < batch.Count && written < count; i++, written++)
                {
                    var id = batch.SampleIds[i];
                    var image = dataset.ReadImage(id, ref buffer);
                    var info = decoder.ReadHeader(buffer.AsSpan(image.Offset, image.Length));
                    var plan = eval ? planner.PlanEval(info.Width, info.Height) : planner.PlanTrain(seed, 0, id, info.Width, info.Height);
                    var pixels = batch.Images.Slice(i * spec.BytesPerSample, spec.BytesPerSample);
                    Write(outDir, written, id, dataset.GetFileName(id), batch.Labels[i], plan, pixels, spec);
                }
            }

            if (written >= count)
            {
                break;
            }
        }

        return written;
    }

    private static int FromImageFolder(string dataDir, int count, string outDir, ulong seed, bool eval)
    {
        var files = Directory.EnumerateFiles(dataDir, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
        {
            Console.Error.WriteLine($"preview: no *.tfrecord shards and no JPEG files in {dataDir}");
            return ExitCodes.Success;
        }

        var classes = files.Select(f => ClassName(dataDir, f)).Distinct().Order(StringComparer.Ordinal).ToList();
        var spec = OutputSpec.ImageNet(224, PixelType.UInt8, PixelLayout.Nhwc);
        var planner = new SamplePlanner(new AugmentOptions());
        using var decoder = new CpuSampleDecoder();
        var pixels = new byte[spec.BytesPerSample];
        var n = Math.Min(count, files.Length);
        for (var id = 0; id < n; id++)
        {
            var jpeg = File.ReadAllBytes(files[id]);
            try
            {
                var info = decoder.ReadHeader(jpeg);
                var plan = eval ? planner.PlanEval(info.Width, info.Height) : planner.PlanTrain(seed, 0, id, info.Width, info.Height);
                decoder.Process(jpeg, plan, spec, pixels);
                Write(outDir, id, id, Path.GetRelativePath(dataDir, files[id]), classes.BinarySearch(ClassName(dataDir, files[id]), StringComparer.Ordinal), plan, pixels, spec);
            }
            catch (ImageDecodeException e)
            {
                throw new ImageDecodeException($"{files[id]}: {e.Message}", e);
            }
        }

        return n;
    }

    private static string ClassName(string dataDir, string file)
    {
        var relative = Path.GetRelativePath(dataDir, file);
        var folder = Path.GetDirectoryName(relative);
        if (!string.IsNullOrEmpty(folder))
        {
            return folder;
        }

        var name = Path.GetFileNameWithoutExtension(file);
        var underscore = name.IndexOf('_', StringComparison.Ordinal);
        return underscore > 0 ? name[..underscore] : name;
    }

    private static void Write(string outDir, int index, long sampleId, string file, int label, in SamplePlan plan, ReadOnlySpan<byte> rgb, OutputSpec spec)
    {
        var stem = Path.Combine(outDir, index.ToString("D4", CultureInfo.InvariantCulture));
        File.WriteAllBytes(stem + ".png", PngWriter.EncodeRgb(rgb, spec.Width, spec.Height));
        var json = new
        {
            sample_id = sampleId,
            file,
            label,
            crop = new[] { plan.Crop.X, plan.Crop.Y, plan.Crop.Width, plan.Crop.Height },
            flip = plan.Flip,
        };
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(json, JsonOptions) + "\n");
    }

    /// <summary>The smallest correct PNG writer: 8-bit RGB, one IDAT, filter 0 on every row, zlib via ZLibStream.</summary>
    private static class PngWriter
    {
        private static readonly uint[] CrcTable = MakeCrcTable();

        public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height)
        {
            using var png = new MemoryStream();
            png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

            var header = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(header, width);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
            header[8] = 8; // bit depth
            header[9] = 2; // color type: RGB
            WriteChunk(png, "IHDR", header);

            using var compressed = new MemoryStream();
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                var stride = width * 3;
                for (var y = 0; y < height; y++)
                {
                    zlib.WriteByte(0); // filter: none
                    zlib.Write(rgb.Slice(y * stride, stride));
                }
            }

            WriteChunk(png, "IDAT", compressed.ToArray());
            WriteChunk(png, "IEND", []);
            return png.ToArray();
        }

        private static void WriteChunk(Stream stream, string type, ReadOnlySpan<byte> data)
        {
            Span<byte> word = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
            stream.Write(word);
            var typeBytes = Encoding.ASCII.GetBytes(type);
            stream.Write(typeBytes);
            stream.Write(data);
            var crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
            BinaryPrimitives.WriteUInt32BigEndian(word, crc);
            stream.Write(word);
        }

        private static uint Crc32(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (var b in data)
            {
                crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            return crc;
        }

        private static uint[] MakeCrcTable()
        {
            var table = new uint[256];
            for (var n = 0u; n < 256; n++)
            {
                var c = n;
                for (var k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                }

                table[n] = c;
            }

            return table;
        }
    }
}
