using System.Globalization;
using Loader.Augment;
using Loader.Records;

namespace Loader.Pipeline.Sources;

/// <summary>One sample, read and checked, with its plan: what the CPU decoder or nvJPEG then turns into pixels.</summary>
/// <param name="JpegOffset">Where the JPEG starts in the thread's record buffer.</param>
/// <param name="JpegLength">Its length in bytes.</param>
/// <param name="Label">0-based label, checked to lie in [0, classes).</param>
/// <param name="Header">The JPEG header read to plan it (the CPU decoder takes it instead of parsing it again).</param>
/// <param name="Plan">Crop, flip and output size (the shared <see cref="SamplePlanner"/>'s).</param>
internal readonly record struct PreparedSample(int JpegOffset, int JpegLength, int Label, ImageInfo Header, SamplePlan Plan);

/// <summary>
/// The per-sample setup shared by the CPU and the GPU loader (as DALI's operators share one setup between their
/// CPU and GPU runs): read the record (CRCs, framing, index agreement), check the label, read the JPEG header once,
/// refuse images over the pixel limit before anything is allocated for their pixels, and plan the sample. Every
/// failure a sample can have here is a <see cref="BadSampleException"/> naming shard, record, file and reason, so
/// the loader's one bad-sample policy handles all of them alike. Thread-safe: per-thread state (the record buffer
/// and the header reader) is passed in.
/// </summary>
internal sealed class SamplePreparation
{
    private readonly RecordDataset _dataset;
    private readonly SamplePlanner _planner;
    private readonly bool _train;
    private readonly ulong _seed;
    private readonly long _maxPixels;
    private readonly int _classCount;

    public SamplePreparation(RecordDataset dataset, LoaderOptions options)
    {
        _dataset = dataset;
        _planner = new SamplePlanner(options.Augment);
        _train = options.Train;
        _seed = options.Seed;
        _maxPixels = options.MaxPixels;
        _classCount = dataset.Classes.Count;
    }

    public RecordDataset Dataset => _dataset;

    /// <summary>
    /// Reads and checks sample <paramref name="sampleId"/> into <paramref name="buffer"/> and plans it for
    /// <paramref name="epoch"/>. Throws <see cref="BadSampleException"/> for anything wrong with the sample.
    /// </summary>
    public PreparedSample Prepare(long sampleId, int epoch, CpuSampleDecoder headerReader, ref byte[] buffer)
    {
        EncodedImage image;
        try
        {
            image = _dataset.ReadImage(sampleId, ref buffer);
        }
        catch (RecordCorruptException e)
        {
            throw Bad(sampleId, e.Problem);
        }

        if ((uint)image.Label >= (uint)_classCount)
        {
            throw Bad(sampleId, image.Label < 0
                ? "the record has no label"
                : string.Create(CultureInfo.InvariantCulture, $"label {image.Label} is outside the data set's {_classCount} classes"));
        }

        ImageInfo info;
        try
        {
            info = headerReader.ReadHeader(buffer.AsSpan(image.Offset, image.Length));
        }
        catch (ImageDecodeException e)
        {
            throw Bad(sampleId, e.Message);
        }

        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > _maxPixels)
        {
            throw Bad(sampleId, string.Create(CultureInfo.InvariantCulture,
                $"the JPEG header claims {info.Width}x{info.Height} pixels, over the loader's limit of {_maxPixels} (LoaderOptions.MaxPixels)"));
        }

        SamplePlan plan = _train
            ? _planner.PlanTrain(_seed, epoch, sampleId, info.Width, info.Height)
            : _planner.PlanEval(info.Width, info.Height);
        return new PreparedSample(image.Offset, image.Length, image.Label, info, plan);
    }

    /// <summary>Where a sample comes from, in words (shard, record, file name): slow path, for log lines.</summary>
    public string Describe(long sampleId)
    {
        try
        {
            RecordEntry entry = _dataset.GetEntry(sampleId);
            return string.Create(CultureInfo.InvariantCulture,
                $"{_dataset.GetShardPath(entry.Shard)}, record {entry.RecordInShard}, file {_dataset.GetFileName(sampleId)}");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            return "location unknown";
        }
    }

    /// <summary>A bad-sample error for <paramref name="sampleId"/>: "sample N (shard, record, file): problem".</summary>
    public BadSampleException Bad(long sampleId, string problem) => new(sampleId, Describe(sampleId), problem);
}
