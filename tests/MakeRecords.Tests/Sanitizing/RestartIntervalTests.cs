using System.Text.Json;
using Loader.Augment;
using Loader.Augment.Jpeg;
using Loader.Records.Index;
using Loader.Records.Reading;
using Loader.Tools.MakeRecords.Job;
using Loader.Tools.MakeRecords.Sanitizing;

namespace Loader.Records.Tests.MakeRecords;

/// <summary>make-records --restart-interval: lossless transcoding, counted and recorded; off by default.</summary>
public sealed class RestartIntervalTests
{
    /// <summary>Two classes of baseline JPEGs big enough to splice, a progressive and a grayscale one, a CMYK JPEG and a
    /// PNG (both re-encoded), and an empty file (skipped).</summary>
    private static Dictionary<string, byte[]> MakeTree(string root)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var synset in new[] { "n01", "n02" })
        {
            Directory.CreateDirectory(Path.Combine(root, synset));
            for (var i = 0; i < 4; i++)
            {
                files[$"{synset}/{synset}_{i}.JPEG"] = TestImages.Jpeg(260 + (i * 37), 190 + (i * 23), seed: (synset.Length * 10) + i);
            }
        }

        files["n01/gray.JPEG"] = TestImages.Jpeg(241, 201, seed: 4, gray: true);
        files["n01/progressive.JPEG"] = File.ReadAllBytes(TestImages.Fixture("progressive.jpg"));
        files["n02/cmyk.JPEG"] = File.ReadAllBytes(TestImages.Fixture("cmyk.jpg"));
        files["n02/png.JPEG"] = TestImages.Png(150, 90, seed: 3);
        files["n02/empty.JPEG"] = [];
        foreach (var (rel, bytes) in files)
        {
            File.WriteAllBytes(Path.Combine(root, rel), bytes);
        }

        return files;
    }

    private static MakeRecordsOptions Options(string input, string output, RestartMode restart) =>
        new(input, output) { Shards = 2, Seed = 3, Threads = 2, ReportPath = output + ".report.json", Sanitize = new SanitizeOptions { Restart = restart } };

    [Fact]
    public void Run_RestartAuto_TranscodesEveryJpeg_CountsThem_AndRecordsTheMode()
    {
        using var dir = new TempDirectory();
        var input = dir.Combine("train");
        MakeTree(input);
        var output = dir.Combine("auto");
        var result = new MakeRecordsJob(Options(input, output, RestartMode.Auto)).Run(TestContext.Current.CancellationToken);

        // 8 baseline + gray + progressive are transcoded; CMYK and PNG re-encoded (with restart intervals); empty skipped.
        Assert.Equal(10, result.Report.Transcoded);
        Assert.Equal(0, result.Report.Written);
        Assert.Equal(2, result.Report.Reencoded);
        Assert.Equal(1, result.Report.Skipped);
        Assert.Equal("auto", result.Report.RestartInterval);
        Assert.Equal(("auto", 10L), (result.Manifest.Source!.RestartInterval, result.Manifest.Source.Transcoded));
        var reread = DatasetManifest.Read(Path.Combine(output, ShardNaming.ManifestFileName));
        Assert.Equal(("auto", 10L), (reread.Source!.RestartInterval, reread.Source.Transcoded));
        using (var report = JsonDocument.Parse(File.ReadAllText(output + ".report.json")))
        {
            Assert.Equal(10, report.RootElement.GetProperty("transcoded").GetInt64());
            Assert.Equal(10, report.RootElement.GetProperty("files").EnumerateArray().Count(f => f.GetProperty("status").GetString() == "transcoded"));
        }

        Assert.True(DatasetVerifier.Verify(output).Ok);
        using var dataset = RecordDataset.Open(output);
        var buffer = Array.Empty<byte>();
        for (long i = 0; i < dataset.Count; i++)
        {
            var image = dataset.ReadImage(i, ref buffer);
            Assert.True(JpegFrame.TryRead(buffer.AsSpan(image.Offset, image.Length), out var frame), dataset.GetFileName(i));
            Assert.True(frame.Spliceable && frame.RestartInterval > 0 && frame.McuColumns % frame.RestartInterval == 0,
                $"{dataset.GetFileName(i)}: interval {frame.RestartInterval}, {frame.McuColumns} MCUs a row");
        }
    }

    [Fact]
    public void Run_ByDefault_StoresJpegsAsGiven_AndTheManifestSaysNothingOfRestartIntervals()
    {
        using var dir = new TempDirectory();
        var input = dir.Combine("train");
        var files = MakeTree(input);
        var output = dir.Combine("plain");
        var result = new MakeRecordsJob(Options(input, output, RestartMode.Off)).Run(TestContext.Current.CancellationToken);
        Assert.Equal(0, result.Report.Transcoded);
        Assert.Null(result.Report.RestartInterval);
        Assert.DoesNotContain("restartInterval", File.ReadAllText(Path.Combine(output, ShardNaming.ManifestFileName)), StringComparison.Ordinal);
        Assert.DoesNotContain("transcoded", File.ReadAllText(output + ".report.json"), StringComparison.Ordinal);

        using var dataset = RecordDataset.Open(output);
        var buffer = Array.Empty<byte>();
        var identical = 0;
        for (long i = 0; i < dataset.Count; i++)
        {
            var image = dataset.ReadImage(i, ref buffer);
            var name = dataset.GetFileName(i);
            var original = files.Single(f => f.Key.EndsWith(name, StringComparison.Ordinal)).Value;
            identical += buffer.AsSpan(image.Offset, image.Length).SequenceEqual(original) ? 1 : 0;
        }

        Assert.Equal(10, identical); // all but the re-encoded CMYK and PNG
    }

    [Fact]
    public void Preview_OfATranscodedSet_EqualsThePassthroughSets_WithTheSameSeed()
    {
        using var dir = new TempDirectory();
        var input = dir.Combine("train");
        MakeTree(input);
        var plain = dir.Combine("plain");
        var auto = dir.Combine("auto");
        var rows = dir.Combine("rows");
        new MakeRecordsJob(Options(input, plain, RestartMode.Off)).Run(TestContext.Current.CancellationToken);
        new MakeRecordsJob(Options(input, auto, RestartMode.Auto)).Run(TestContext.Current.CancellationToken);
        new MakeRecordsJob(Options(input, rows, RestartMode.Rows)).Run(TestContext.Current.CancellationToken);

        // What loader-bench preview does for each sample: header, plan (seed, epoch 0, sample id), decode into a slot.
        var spec = OutputSpec.ImageNet(64, PixelType.UInt8, PixelLayout.Nhwc);
        var planner = new SamplePlanner(new AugmentOptions { OutputSize = 64, EvalResize = 73 });
        using var decoder = new CpuSampleDecoder();
        List<byte[]> Preview(string folder, bool eval)
        {
            using var dataset = RecordDataset.Open(folder);
            var samples = new List<byte[]>();
            var buffer = Array.Empty<byte>();
            for (long id = 0; id < dataset.Count; id++)
            {
                var image = dataset.ReadImage(id, ref buffer);
                var jpeg = buffer.AsSpan(image.Offset, image.Length);
                var info = decoder.ReadHeader(jpeg);
                var plan = eval ? planner.PlanEval(info.Width, info.Height) : planner.PlanTrain(7, 0, id, info.Width, info.Height);
                var slot = new byte[spec.BytesPerSample];
                decoder.Process(jpeg, plan, spec, slot);
                samples.Add(slot);
            }

            return samples;
        }

        foreach (var eval in new[] { false, true })
        {
            var expected = Preview(plain, eval);
            var spliced = decoder.Statistics.SplicedSamples;
            Assert.Equal(expected, Preview(auto, eval));
            Assert.Equal(expected, Preview(rows, eval));
            if (!eval)
            {
                // Most random crops splice (the eval center crop of these small images mostly needs every interval).
                Assert.True(decoder.Statistics.SplicedSamples >= spliced + 12, $"{decoder.Statistics}");
            }
        }
    }
}
