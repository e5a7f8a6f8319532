using System.Buffers;
using System.Runtime.ExceptionServices;
using Loader.Augment;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Order;
using Loader.Records;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// The host half of a GPU batch: reads the batch's records with the CPU loader's reader (CRC-checked), parses each
/// JPEG header, plans each sample with the shared <see cref="SamplePlanner"/> (so the GPU sees exactly the crops and
/// flips the CPU path would make), and replaces bad samples by the shared rule (<see cref="EpochPlan.Replacement"/>).
/// The JPEG bytes and plans then go to <c>GpuBatchProcessor.ProcessBatch</c>. No GPU is touched here.
/// </summary>
/// <remarks>
/// A sample is bad here when its record fails its CRC or is malformed, or when its JPEG header does not parse. An
/// image whose header parses but whose entropy data is corrupt is only found by the decoder: nvJPEG hands it to the
/// CPU fallback, and if that fails too the batch fails (the CPU loader, which decodes per sample, replaces it).
/// </remarks>
internal sealed class GpuBatchAssembler : IDisposable
{
    private readonly RecordDataset _dataset;
    private readonly Func<long, string> _describe;
    private readonly SamplePlanner _planner;
    private readonly bool _train;
    private readonly ulong _seed;
    private readonly bool _strict;
    private readonly BadSampleRegistry _bad;
    private readonly LoaderMetrics _metrics;
    private readonly CpuSampleDecoder[] _headerReaders;
    private readonly byte[][] _buffers;
    private readonly ReadOnlyMemory<byte>[] _jpegs;
    private readonly SamplePlan[] _plans;

    public GpuBatchAssembler(RecordDataset dataset, Func<long, string> describe, LoaderOptions options,
                             BadSampleRegistry bad, LoaderMetrics metrics)
    {
        _dataset = dataset;
        _describe = describe;
        _planner = new SamplePlanner(options.Augment);
        _train = options.Train;
        _seed = options.Seed;
        _strict = options.Strict;
        _bad = bad;
        _metrics = metrics;
        _headerReaders = new CpuSampleDecoder[Math.Min(options.Threads, options.BatchSize)];
        for (int i = 0; i < _headerReaders.Length; i++)
        {
            _headerReaders[i] = new CpuSampleDecoder();
        }

        _buffers = new byte[options.BatchSize][];
        for (int i = 0; i < _buffers.Length; i++)
        {
            _buffers[i] = ArrayPool<byte>.Shared.Rent(256 << 10);
        }

        _jpegs = new ReadOnlyMemory<byte>[options.BatchSize];
        _plans = new SamplePlan[options.BatchSize];
    }

    /// <summary>The JPEGs of the last assembled batch (valid until the next <see cref="Assemble"/>).</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Jpegs(int count) => new ArraySegment<ReadOnlyMemory<byte>>(_jpegs, 0, count);

    /// <summary>The sample plans of the last assembled batch.</summary>
    public ReadOnlySpan<SamplePlan> Plans(int count) => _plans.AsSpan(0, count);

    /// <summary>
    /// Reads and plans the <paramref name="count"/> samples of <paramref name="batch"/>, on up to
    /// <see cref="LoaderOptions.Threads"/> threads; fills <paramref name="plannedIds"/>, the delivered
    /// <paramref name="sampleIds"/> and their <paramref name="labels"/>.
    /// </summary>
    public void Assemble(EpochPlan plan, int batch, int count, long[] plannedIds, long[] sampleIds, int[] labels,
                         CancellationToken cancellation)
    {
        for (int i = 0; i < count; i++)
        {
            plannedIds[i] = plan.SampleId(batch, i);
        }

        int lanes = Math.Min(_headerReaders.Length, count);
        if (lanes <= 1)
        {
            AssembleLane(plan, batch, count, 0, 1, plannedIds, sampleIds, labels);
            return;
        }

        try
        {
            Parallel.For(0, lanes, new ParallelOptions { MaxDegreeOfParallelism = lanes, CancellationToken = cancellation },
                         lane => AssembleLane(plan, batch, count, lane, lanes, plannedIds, sampleIds, labels));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    public void Dispose()
    {
        foreach (CpuSampleDecoder reader in _headerReaders)
        {
            reader?.Dispose();
        }

        for (int i = 0; i < _buffers.Length; i++)
        {
            if (_buffers[i] is { Length: > 0 } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                _buffers[i] = [];
            }
        }
    }

    // Samples lane, lane + lanes, ... of the batch, with header reader number `lane`.
    private void AssembleLane(EpochPlan plan, int batch, int count, int lane, int lanes, long[] plannedIds,
                              long[] sampleIds, int[] labels)
    {
        CpuSampleDecoder headers = _headerReaders[lane];
        for (int index = lane; index < count; index += lanes)
        {
            long sampleId = plannedIds[index];
            int attempt = 0;
            while (true)
            {
                if (!_bad.IsKnownBad(sampleId))
                {
                    try
                    {
                        labels[index] = Load(headers, sampleId, plan.Epoch, index);
                        break;
                    }
                    catch (BadSampleException e) when (!_strict)
                    {
                        _bad.Report(sampleId, e);
                    }
                }

                _metrics.SampleSkipped();
                sampleId = plan.Replacement(batch, index, ++attempt, plannedIds.AsSpan(0, count));
            }

            sampleIds[index] = sampleId;
        }
    }

    private int Load(CpuSampleDecoder headers, long sampleId, int epoch, int index)
    {
        EncodedImage image;
        try
        {
            image = _dataset.ReadImage(sampleId, ref _buffers[index]);
        }
        catch (RecordCorruptException e)
        {
            throw Bad(sampleId, e);
        }

        ReadOnlyMemory<byte> jpeg = _buffers[index].AsMemory(image.Offset, image.Length);
        ImageInfo info;
        try
        {
            info = headers.ReadHeader(jpeg.Span);
        }
        catch (ImageDecodeException e)
        {
            throw Bad(sampleId, e);
        }

        _plans[index] = _train
            ? _planner.PlanTrain(_seed, epoch, sampleId, info.Width, info.Height)
            : _planner.PlanEval(info.Width, info.Height);
        _jpegs[index] = jpeg;
        return image.Label;
    }

    private BadSampleException Bad(long sampleId, Exception cause)
    {
        string where;
        try
        {
            where = _describe(sampleId);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
        {
            where = "location unknown";
        }

        return new BadSampleException(sampleId, where, cause);
    }
}
