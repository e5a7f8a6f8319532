using System.Buffers;
using System.Runtime.ExceptionServices;
using Loader.Augment;
using Loader.Pipeline.Execution;
using Loader.Pipeline.Order;
using Loader.Pipeline.Sources;

namespace Loader.Pipeline.Gpu;

/// <summary>
/// The host half of a GPU batch: each sample prepared by the shared <see cref="SamplePreparation"/> (the CPU loader's
/// reader, checks and planner, so the GPU sees exactly the crops and flips the CPU path would make), bad samples
/// replaced by the one <see cref="BadSamplePolicy"/>. The JPEG bytes and plans then go to
/// <c>GpuBatchProcessor.ProcessBatch</c>. No GPU is touched here.
/// </summary>
/// <remarks>
/// A sample is bad here for any reason the preparation finds (record, label, header, pixel limit). An image whose
/// header parses but which does not decode is only found by the decoder: nvJPEG hands it to the CPU fallback, and if
/// that fails too the processor asks <see cref="ReplaceUndecodable"/> for the next candidate of the same sequence
/// the CPU loader uses, so one such image costs one sample, not the batch.
/// </remarks>
internal sealed class GpuBatchAssembler : IDisposable
{
    private readonly SamplePreparation _preparation;
    private readonly BadSamplePolicy _bad;
    private readonly CpuSampleDecoder[] _headerReaders;
    private readonly byte[][] _buffers;
    private readonly ReadOnlyMemory<byte>[] _jpegs;
    private readonly SamplePlan[] _plans;
    private readonly int[] _tries;

    public GpuBatchAssembler(SamplePreparation preparation, LoaderOptions options, BadSamplePolicy bad)
    {
        _preparation = preparation;
        _bad = bad;
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
        _tries = new int[options.BatchSize];
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

    /// <summary>Issues the reads of <paramref name="batch"/>'s planned samples ahead (page-cache hints, see
    /// <see cref="Loader.Records.RecordDataset.Prefetch"/>), while the current batch is assembled and decoded.</summary>
    public void Prefetch(EpochPlan plan, int batch)
    {
        if (batch >= plan.BatchCount)
        {
            return;
        }

        try
        {
            for (int i = 0, count = plan.BatchLength(batch); i < count; i++)
            {
                _preparation.Dataset.Prefetch(plan.SampleId(batch, i));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A hint only: the batch's own reads report the problem.
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
        var attempt = new HostAttempt { Owner = this, HeaderReader = _headerReaders[lane], Epoch = plan.Epoch };
        for (int index = lane; index < count; index += lanes)
        {
            attempt.Index = index;
            _tries[index] = 0;
            sampleIds[index] = _bad.Deliver(plan, batch, index, plannedIds.AsSpan(0, count), ref _tries[index], ref attempt);
            labels[index] = attempt.Label;
        }
    }

    /// <summary>
    /// Sample <paramref name="index"/> of the last assembled batch did not decode (nvJPEG and its CPU fallback both
    /// rejected it; its header was fine): reports it once and prepares the next good candidate of the same
    /// deterministic sequence in its place (ids, label, JPEG, plan), so one corrupt image costs one sample, not the
    /// batch. Called on the producer thread after <see cref="Assemble"/>; returns the replacement's JPEG and plan.
    /// </summary>
    public (ReadOnlyMemory<byte> Jpeg, SamplePlan Plan) ReplaceUndecodable(EpochPlan plan, int batch, int index, int count,
                                                                            long[] plannedIds, long[] sampleIds, int[] labels,
                                                                            ImageDecodeException failure)
    {
        BadSampleException bad = _preparation.Bad(sampleIds[index], failure.Message);
        var attempt = new HostAttempt { Owner = this, HeaderReader = _headerReaders[0], Epoch = plan.Epoch, Index = index };
        sampleIds[index] = _bad.Replace(plan, batch, index, plannedIds.AsSpan(0, count), bad, ref _tries[index], ref attempt);
        labels[index] = attempt.Label;
        return (_jpegs[index], _plans[index]);
    }

    /// <summary>One try at one sample: prepared into the sample's own buffer, its JPEG and plan kept for the GPU.</summary>
    private struct HostAttempt : ISampleAttempt
    {
        public GpuBatchAssembler Owner;
        public CpuSampleDecoder HeaderReader;
        public int Epoch;
        public int Index;
        public int Label;

        public void Load(long sampleId)
        {
            ref byte[] buffer = ref Owner._buffers[Index];
            PreparedSample sample = Owner._preparation.Prepare(sampleId, Epoch, HeaderReader, ref buffer);
            Owner._plans[Index] = sample.Plan;
            Owner._jpegs[Index] = buffer.AsMemory(sample.JpegOffset, sample.JpegLength);
            Label = sample.Label;
        }
    }
}
