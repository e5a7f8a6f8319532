using Loader.Augment;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Gpu;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;
using Loader.Pipeline.Tests.Support;
using Loader.Records;

namespace Loader.Pipeline.Tests.Gpu;

/// <summary>
/// The host half of the GPU loader, which needs no GPU: it must pick exactly the samples, labels, replacements and
/// sample plans the CPU loader uses for the same options.
/// </summary>
public sealed class GpuBatchAssemblerTests
{
    private const int Size = 32;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Assembles_TheCpuLoadersSamplesLabelsAndPlans(int threads)
    {
        using var records = new TestRecords(23);
        LoaderOptions options = Options(records, threads);
        List<SeenBatch> cpu = CpuEpoch(options);

        var assembled = AssembleEpoch(options, out List<SamplePlan[]> plans, out _);

        Assert.Equal(cpu.Count, assembled.Count);
        var planner = new SamplePlanner(options.Augment);
        using var headers = new CpuSampleDecoder();
        using var dataset = RecordDataset.Open(records.Directory, new RecordReadOptions(true));
        byte[] buffer = new byte[1 << 16];
        for (int b = 0; b < cpu.Count; b++)
        {
            Assert.Equal(cpu[b].Ids, assembled[b].Ids);
            Assert.Equal(cpu[b].Labels, assembled[b].Labels);
            for (int i = 0; i < cpu[b].Ids.Length; i++)
            {
                EncodedImage image = dataset.ReadImage(cpu[b].Ids[i], ref buffer);
                ImageInfo info = headers.ReadHeader(buffer.AsSpan(image.Offset, image.Length));
                Assert.Equal(planner.PlanTrain(options.Seed, 0, cpu[b].Ids[i], info.Width, info.Height), plans[b][i]);
            }
        }
    }

    [Fact]
    public void BadRecords_AreReplacedLikeTheCpuLoader_CountedAndLoggedOnce()
    {
        using var records = new TestRecords(20, imageOverride: i => i == 11 ? "this is not a JPEG"u8.ToArray() : null);
        records.CorruptPayload(4); // CRC failure
        LoaderOptions options = Options(records, threads: 2);
        List<SeenBatch> cpu = CpuEpoch(options);

        var assembled = AssembleEpoch(options, out _, out (LoaderMetrics Metrics, List<string> Log) bad);

        Assert.Equal(cpu.Select(b => b.Ids), assembled.Select(b => b.Ids));
        Assert.Equal(cpu.Select(b => b.Labels), assembled.Select(b => b.Labels));
        Assert.DoesNotContain(4L, assembled.SelectMany(b => b.Ids));
        Assert.DoesNotContain(11L, assembled.SelectMany(b => b.Ids));
        Assert.Equal(2, bad.Metrics.BadRecords);
        Assert.Equal(2, bad.Log.Count);
        Assert.Contains(bad.Log, line => line.Contains("img_004.JPEG") && line.Contains("CRC"));
        Assert.Contains(bad.Log, line => line.Contains("img_011.JPEG"));
    }

    /// <summary>A JPEG whose header reads but which cannot be decoded: its second component now uses quantization
    /// table 3, which the file never defines (libjpeg finds that only when decoding starts).</summary>
    private static byte[] Undecodable(byte[] jpeg)
    {
        byte[] patched = (byte[])jpeg.Clone();
        for (int i = 2; i + 4 < patched.Length; i++)
        {
            if (patched[i] == 0xFF && patched[i + 1] is 0xC0 or 0xC1 && patched[i + 9] >= 2)
            {
                patched[i + 10 + 3 + 2] = 3; // component 2: id, sampling, Tq
                return patched;
            }
        }

        throw new InvalidOperationException("no colour SOF in the test JPEG");
    }

    /// <summary>
    /// The nvJPEG path no longer fails a whole batch on one image nvJPEG and the CPU fallback both reject: the
    /// processor asks for a replacement of that one sample, and the assembler's replacement is the CPU loader's
    /// (same deterministic sequence), reported once. Here the fallback loop runs as GpuBatchProcessor runs it, on
    /// the CPU decoder, without a GPU.
    /// </summary>
    [Fact]
    public void AnImageThatDoesNotDecode_IsReplacedAlone_AsTheCpuLoaderReplacesIt()
    {
        byte[] broken = Undecodable(TestRecords.Jpeg(64, 48, 6));
        using (var decoder = new CpuSampleDecoder())
        {
            Assert.Equal(64, decoder.ReadHeader(broken).Width); // the header is fine: only decoding finds it
            var samplePlan = new SamplePlanner(new AugmentOptions { OutputSize = Size, EvalResize = 36 }).PlanEval(64, 48);
            Assert.Throws<ImageDecodeException>(() => decoder.Process(broken, samplePlan, OutputSpec.ImageNet(Size), new byte[OutputSpec.ImageNet(Size).BytesPerSample]));
        }

        using var records = new TestRecords(20, imageOverride: i => i == 6 ? broken : null);
        LoaderOptions options = Options(records, threads: 2);
        List<SeenBatch> cpu = CpuEpoch(options);
        Assert.DoesNotContain(6L, cpu.SelectMany(b => b.Ids));

        var metrics = new LoaderMetrics();
        var log = new List<string>();
        var policy = new BadSamplePolicy(metrics, line => { lock (log) { log.Add(line); } }, strict: false);
        using var dataset = RecordDataset.Open(options.DataDirectory, new RecordReadOptions(options.VerifyCrc));
        var source = new RecordSampleSource(dataset, options);
        using var assembler = new GpuBatchAssembler(source.Preparation, options, policy);
        using var fallback = new CpuSampleDecoder();
        EpochPlan plan = new LoaderContext(options, dataset.Count, metrics, policy).PlanEpoch(0, 0);
        byte[] pixels = new byte[options.Output.BytesPerSample];
        var planned = new long[options.BatchSize];
        for (int b = 0; b < plan.BatchCount; b++)
        {
            int count = plan.BatchLength(b);
            var ids = new long[options.BatchSize];
            var labels = new int[options.BatchSize];
            assembler.Assemble(plan, b, count, planned, ids, labels, CancellationToken.None);
            for (int i = 0; i < count; i++)
            {
                (ReadOnlyMemory<byte> jpeg, SamplePlan samplePlan) = (assembler.Jpegs(count)[i], assembler.Plans(count)[i]);
                while (true)
                {
                    try
                    {
                        fallback.Process(jpeg.Span, samplePlan, options.Output, pixels);
                        break;
                    }
                    catch (ImageDecodeException e)
                    {
                        (jpeg, samplePlan) = assembler.ReplaceUndecodable(plan, b, i, count, planned, ids, labels, e);
                    }
                }
            }

            Assert.Equal(cpu[b].Ids, ids[..count]);
            Assert.Equal(cpu[b].Labels, labels[..count]);
        }

        string line = Assert.Single(log);
        Assert.Contains("img_006.JPEG", line);
        Assert.Equal(1, metrics.BadRecords);
    }

    [Fact]
    public void Strict_StopsAtTheFirstBadRecord()
    {
        using var records = new TestRecords(10);
        records.CorruptPayload(7);
        LoaderOptions options = Options(records, threads: 2) with { Strict = true, Train = false };

        var error = Assert.Throws<BadSampleException>(() => AssembleEpoch(options, out _, out _));
        Assert.Equal(7, error.SampleId);
        Assert.Contains("img_007.JPEG", error.Message);
    }

    private static LoaderOptions Options(TestRecords records, int threads) => new()
    {
        DataDirectory = records.Directory,
        BatchSize = 5,
        Threads = threads,
        Seed = 5,
        Augment = new AugmentOptions { OutputSize = Size, EvalResize = 36 },
        Output = OutputSpec.ImageNet(Size),
        Log = _ => { },
    };

    private static List<SeenBatch> CpuEpoch(LoaderOptions options)
    {
        using DataLoader loader = DataLoader.Create(options);
        return LoaderRuns.Epoch(loader);
    }

    private static List<(long[] Ids, int[] Labels)> AssembleEpoch(LoaderOptions options, out List<SamplePlan[]> plans,
                                                                  out (LoaderMetrics Metrics, List<string> Log) bad)
    {
        var metrics = new LoaderMetrics();
        var log = new List<string>();
        bad = (metrics, log);
        var policy = new BadSamplePolicy(metrics, line => { lock (log) { log.Add(line); } }, options.Strict);
        using var dataset = RecordDataset.Open(options.DataDirectory, new RecordReadOptions(options.VerifyCrc));
        var source = new RecordSampleSource(dataset, options);
        using var assembler = new GpuBatchAssembler(source.Preparation, options, policy);
        EpochPlan plan = new LoaderContext(options, dataset.Count, metrics, policy).PlanEpoch(0, 0);
        var batches = new List<(long[] Ids, int[] Labels)>();
        plans = [];
        var planned = new long[options.BatchSize];
        for (int b = 0; b < plan.BatchCount; b++)
        {
            int count = plan.BatchLength(b);
            var ids = new long[options.BatchSize];
            var labels = new int[options.BatchSize];
            assembler.Assemble(plan, b, count, planned, ids, labels, CancellationToken.None);
            Assert.Equal(count, assembler.Jpegs(count).Count);
            Assert.All(assembler.Jpegs(count), jpeg => Assert.Equal(0xFF, jpeg.Span[0])); // every one starts a JPEG (SOI)
            batches.Add((ids[..count], labels[..count]));
            plans.Add(assembler.Plans(count).ToArray());
        }

        return batches;
    }
}
