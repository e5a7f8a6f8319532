using System.Buffers;
using System.Diagnostics;
using Loader.Augment;
using Loader.Records;

namespace Loader.Pipeline.Sources;

/// <summary>
/// The production sample source of the CPU loader: each sample prepared by the shared
/// <see cref="SamplePreparation"/> (read, checked, planned) and then decoded, cropped, resized, flipped and
/// normalized by <see cref="CpuSampleDecoder"/> straight into its slot.
/// </summary>
internal sealed class RecordSampleSource : ISampleSource
{
    private readonly RecordDataset _dataset;
    private readonly OutputSpec _output;

    public RecordSampleSource(RecordDataset dataset, LoaderOptions options)
    {
        _dataset = dataset;
        _output = options.Output;
        Preparation = new SamplePreparation(dataset, options);
    }

    public SamplePreparation Preparation { get; }

    public long Count => _dataset.Count;

    public int ClassCount => _dataset.Classes.Count;

    public int BytesPerSample => _output.BytesPerSample;

    public void Prefetch(long sampleId) => _dataset.Prefetch(sampleId);

    public ISampleWorker CreateWorker() => new Worker(this);

    public string Describe(long sampleId) => Preparation.Describe(sampleId);

    public void Dispose() => _dataset.Dispose();

    private sealed class Worker(RecordSampleSource source) : ISampleWorker
    {
        // Each sample goes straight into its batch slot, which the consumer reads only later: stores past the caches.
        private readonly CpuSampleDecoder _decoder = new() { StreamingStores = true };
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        private SpliceStatistics _reported;

        public int Load(long sampleId, int epoch, Span<byte> destination, ref StageTimes times)
        {
            long start = Stopwatch.GetTimestamp();
            PreparedSample sample = source.Preparation.Prepare(sampleId, epoch, _decoder, ref _buffer);
            long prepared = Stopwatch.GetTimestamp();
            times.Read += prepared - start;

            try
            {
                _decoder.Process(_buffer.AsSpan(sample.JpegOffset, sample.JpegLength), sample.Header, sample.Plan, source._output, destination);
            }
            catch (ImageDecodeException e)
            {
                throw source.Preparation.Bad(sampleId, e.Message);
            }

            times.Decode += Stopwatch.GetTimestamp() - prepared;
            SpliceStatistics now = _decoder.Statistics;
            times.Splicing += new SpliceStatistics(now.Samples - _reported.Samples, now.SplicedSamples - _reported.SplicedSamples,
                                                   now.SplicedEntropyBytes - _reported.SplicedEntropyBytes,
                                                   now.SplicedSourceEntropyBytes - _reported.SplicedSourceEntropyBytes);
            _reported = now;
            return sample.Label;
        }

        public void Dispose()
        {
            _decoder.Dispose();
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
