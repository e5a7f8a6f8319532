using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Gpu;
using Loader.Pipeline.Sources;
using Loader.Pipeline.Tests.Sources;
using Loader.Pipeline.Tests.Support;
using Loader.Records;

namespace Loader.Pipeline.Tests.Contract;

/// <summary>What a consumer saw of one batch, whatever the implementation: where it is and which samples.</summary>
public sealed record ContractBatch(int Epoch, long Position, long[] Ids, int[] Labels);

/// <summary>
/// The one contract every loader implementation keeps (as dotnet/runtime runs one ChannelTestBase against every
/// channel): the CPU loader, the GPU loader's host half (records, checks, plans and replacements without a device),
/// and the whole GPU loader where there is a GPU. Same order, same sharding, same resumption, the same bad-sample
/// policy, on real records.
/// </summary>
public abstract class LoaderContractTests
{
    private const int Size = 32;

    /// <summary>The batches of <paramref name="epochs"/> enumerations from <paramref name="resumeFrom"/>.</summary>
    protected abstract List<ContractBatch> Run(LoaderOptions options, LoaderState? resumeFrom = null, int epochs = 1);

    private protected static LoaderOptions Options(TestRecords records, int threads = 2, List<string>? log = null) => new()
    {
        DataDirectory = records.Directory,
        BatchSize = 5,
        Threads = threads,
        Seed = 11,
        Augment = new AugmentOptions { OutputSize = Size, EvalResize = 36 },
        Output = OutputSpec.ImageNet(Size, PixelType.UInt8, PixelLayout.Nhwc),
        Log = log is null ? _ => { } : line => { lock (log) { log.Add(line); } },
    };

    [Fact]
    public void AnEpoch_DeliversEveryRecordOnce_WithItsLabel_InFullBatches()
    {
        using var records = new TestRecords(23);
        List<ContractBatch> epoch = Run(Options(records));
        Assert.Equal([5, 5, 5, 5, 3], epoch.Select(b => b.Ids.Length));
        Assert.Equal(Enumerable.Range(0, 23).Select(i => (long)i), epoch.SelectMany(b => b.Ids).Order());
        Assert.All(epoch, b => Assert.Equal(b.Ids.Select(id => (int)(id % TestRecords.Classes)), b.Labels));
        Assert.Equal([0L, 5, 10, 15, 20], epoch.Select(b => b.Position));
    }

    [Fact]
    public void TheOrder_DependsOnTheSeedAndEpoch_NotOnTheThreads()
    {
        using var records = new TestRecords(17);
        List<ContractBatch> one = Run(Options(records, threads: 1), epochs: 2);
        List<ContractBatch> three = Run(Options(records, threads: 3), epochs: 2);
        Assert.Equal(one.Select(b => b.Ids), three.Select(b => b.Ids));
        Assert.NotEqual(one.Where(b => b.Epoch == 0).SelectMany(b => b.Ids), one.Where(b => b.Epoch == 1).SelectMany(b => b.Ids));
    }

    [Fact]
    public void Resuming_AtABatchBoundary_EqualsTheUninterruptedRun()
    {
        using var records = new TestRecords(21);
        LoaderOptions options = Options(records);
        List<ContractBatch> whole = Run(options);
        List<ContractBatch> rest = Run(options, new LoaderState(options.Seed, 0, whole[2].Position));
        Assert.Equal(whole.Skip(2).Select(b => b.Ids), rest.Select(b => b.Ids));
    }

    [Fact]
    public void TwoRanks_TogetherSeeEveryRecordOnce_InEqualBatchCounts()
    {
        using var records = new TestRecords(20);
        List<ContractBatch> rank0 = Run(Options(records) with { Rank = 0, WorldSize = 2 });
        List<ContractBatch> rank1 = Run(Options(records) with { Rank = 1, WorldSize = 2 });
        Assert.Equal(rank0.Count, rank1.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), rank0.Concat(rank1).SelectMany(b => b.Ids).Order());
    }

    [Fact]
    public void BadRecords_OfEveryKind_AreReplaced_AndEachIsReportedOnce()
    {
        byte[] bomb = HostileSampleTests.WithClaimedSize(TestRecords.Jpeg(48, 40, 3), 65500, 65500);
        using var records = new TestRecords(20, imageOverride: i => i switch
        {
            3 => bomb,
            11 => "this is not a JPEG"u8.ToArray(),
            _ => null,
        });
        records.CorruptPayload(7);
        var log = new List<string>();
        List<ContractBatch> epochs = Run(Options(records, log: log), epochs: 2);

        long[] delivered = [.. epochs.SelectMany(b => b.Ids)];
        Assert.Equal(40, delivered.Length); // every batch full, both epochs
        Assert.DoesNotContain(3L, delivered);
        Assert.DoesNotContain(7L, delivered);
        Assert.DoesNotContain(11L, delivered);
        Assert.Equal(3, log.Count); // once each, not once per epoch
        Assert.Contains(log, l => l.Contains("img_003.JPEG") && l.Contains("65500x65500"));
        Assert.Contains(log, l => l.Contains("img_007.JPEG") && l.Contains("CRC"));
        Assert.Contains(log, l => l.Contains("img_011.JPEG"));
    }

    [Fact]
    public void ADataSetWithOneGoodRecord_StillDeliversFullBatches()
    {
        using var records = new TestRecords(6, imageOverride: i => i == 2 ? null : "bad"u8.ToArray());
        List<ContractBatch> epoch = Run(Options(records));
        Assert.All(epoch.SelectMany(b => b.Ids), id => Assert.Equal(2L, id));
        Assert.Equal(6, epoch.Sum(b => b.Ids.Length));
    }

    [Fact]
    public void Strict_StopsAtTheFirstBadRecord_NamingIt()
    {
        using var records = new TestRecords(10);
        records.CorruptPayload(6);
        var error = Assert.Throws<BadSampleException>(() => Run(Options(records) with { Strict = true, Train = false }));
        Assert.Equal(6, error.SampleId);
        Assert.Contains("img_006.JPEG", error.Message);
    }
}

/// <summary>The contract, kept by the CPU loader.</summary>
public sealed class CpuLoaderContractTests : LoaderContractTests
{
    protected override List<ContractBatch> Run(LoaderOptions options, LoaderState? resumeFrom = null, int epochs = 1)
    {
        using DataLoader loader = DataLoader.Create(options, resumeFrom);
        var seen = new List<ContractBatch>();
        for (int e = 0; e < epochs; e++)
        {
            foreach (HostBatch batch in loader)
            {
                using (batch)
                {
                    seen.Add(new ContractBatch(batch.Epoch, batch.Position, batch.SampleIds.ToArray(), batch.Labels.ToArray()));
                }
            }
        }

        return seen;
    }
}

/// <summary>
/// The contract, kept by the GPU loader's host half: the epoch plans of the shared context and the assembler that
/// prepares every GPU batch (records, checks, labels, plans, replacements), driven batch by batch as the GPU run's
/// producer drives it, without a device.
/// </summary>
public sealed class GpuHostHalfContractTests : LoaderContractTests
{
    protected override List<ContractBatch> Run(LoaderOptions options, LoaderState? resumeFrom = null, int epochs = 1)
    {
        var metrics = new LoaderMetrics();
        var policy = new BadSamplePolicy(metrics, options.Log!, options.Strict);
        using var dataset = RecordDataset.Open(options.DataDirectory, new RecordReadOptions(options.VerifyCrc));
        var source = new RecordSampleSource(dataset, options);
        using var assembler = new GpuBatchAssembler(source.Preparation, options, policy);
        var context = new LoaderContext(options, dataset.Count, metrics, policy);
        LoaderState state = LoaderContext.StartState(options, dataset.Count, resumeFrom);
        var seen = new List<ContractBatch>();
        var planned = new long[options.BatchSize];
        for (int e = 0; e < epochs; e++)
        {
            var plan = context.PlanEpoch(state.Epoch, state.Position);
            for (int b = 0; b < plan.BatchCount; b++)
            {
                int count = plan.BatchLength(b);
                var ids = new long[options.BatchSize];
                var labels = new int[options.BatchSize];
                assembler.Assemble(plan, b, count, planned, ids, labels, CancellationToken.None);
                seen.Add(new ContractBatch(plan.Epoch, plan.BatchStartPosition(b), ids[..count], labels[..count]));
            }

            state = new LoaderState(options.Seed, state.Epoch + 1, 0);
        }

        return seen;
    }
}

/// <summary>The contract, kept by the whole GPU loader (skips without a GPU; runs in tools/device).</summary>
public sealed class GpuLoaderContractTests : LoaderContractTests
{
    protected override List<ContractBatch> Run(LoaderOptions options, LoaderState? resumeFrom = null, int epochs = 1)
    {
        GpuProbeResult probe = GpuAvailability.Probe();
        if (!probe.IsAvailable)
        {
            Assert.Skip("needs a GPU (runs in tools/device/run-on-device.sh): " + probe.Summary);
        }

        using DataLoader loader = DataLoader.Create(options with { Device = LoaderDevice.Cuda() }, resumeFrom);
        var seen = new List<ContractBatch>();
        for (int e = 0; e < epochs; e++)
        {
            foreach (DeviceBatch batch in loader)
            {
                using (batch)
                {
                    batch.Synchronize();
                    seen.Add(new ContractBatch(batch.Epoch, batch.Position, batch.SampleIds.ToArray(), batch.Labels.ToArray()));
                }
            }
        }

        return seen;
    }
}
