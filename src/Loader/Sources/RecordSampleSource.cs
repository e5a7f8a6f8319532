using System.Buffers;
using System.Diagnostics;
using Loader.Augment;
using Loader.Records;

namespace Loader.Pipeline.Sources;

/// <summary>
/// The production sample source: records read from shards (<see cref="RecordDataset"/>, CRC-checked) and decoded,
/// cropped, resized, flipped and normalized by <see cref="CpuSampleDecoder"/> per the shared
/// <see cref="SamplePlanner"/>.
/// </summary>
internal sealed class RecordSampleSource : ISampleSource
{
    private readonly RecordDataset _dataset;
    private readonly SamplePlanner _planner;
    private readonly OutputSpec _output;
    private readonly bool _train;
    private readonly ulong _seed;

    public RecordSampleSource(RecordDataset dataset, AugmentOptions augment, OutputSpec output, bool train, ulong seed)
    {
        _dataset = dataset;
        _planner = new SamplePlanner(augment);
        _output = output;
        _train = train;
        _seed = seed;
    }

    public long Count => _dataset.Count;

    public int ClassCount => _dataset.Classes.Count;

    public int BytesPerSample => _output.BytesPerSample;

    public ISampleWorker CreateWorker() => new Worker(this);

    public string Describe(long sampleId)
    {
        RecordEntry entry = _dataset.GetEntry(sampleId);
        return $"{_dataset.GetShardPath(entry.Shard)}, record {entry.RecordInShard}, file {_dataset.GetFileName(sampleId)}";
    }

    public void Dispose() => _dataset.Dispose();

    private sealed class Worker(RecordSampleSource source) : ISampleWorker
    {
        private readonly CpuSampleDecoder _decoder = new();
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1 << 20);

        public int Load(long sampleId, int epoch, Span<byte> destination, ref StageTimes times)
        {
            long start = Stopwatch.GetTimestamp();
            EncodedImage image;
            try
            {
                image = source._dataset.ReadImage(sampleId, ref _buffer);
            }
            catch (RecordCorruptException e)
            {
                throw Bad(sampleId, e);
            }

            long read = Stopwatch.GetTimestamp();
            times.Read += read - start;

            ReadOnlySpan<byte> jpeg = _buffer.AsSpan(image.Offset, image.Length);
            try
            {
                ImageInfo info = _decoder.ReadHeader(jpeg);
                SamplePlan plan = source._train
                    ? source._planner.PlanTrain(source._seed, epoch, sampleId, info.Width, info.Height)
                    : source._planner.PlanEval(info.Width, info.Height);
                _decoder.Process(jpeg, plan, source._output, destination);
            }
            catch (ImageDecodeException e)
            {
                throw Bad(sampleId, e);
            }

            times.Decode += Stopwatch.GetTimestamp() - read;
            return image.Label;
        }

        public void Dispose()
        {
            _decoder.Dispose();
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        private BadSampleException Bad(long sampleId, Exception cause)
        {
            string where;
            try
            {
                where = source.Describe(sampleId);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
            {
                where = "location unknown";
            }

            return new BadSampleException(sampleId, where, cause);
        }
    }
}
