using Loader.Augment;
using Loader.Augment.Cuda;

namespace Loader.Pipeline;

/// <summary>Everything a <see cref="DataLoader"/> needs. The defaults are ImageNet training on one rank, batches in
/// host memory.</summary>
public sealed record LoaderOptions
{
    /// <summary>A directory of record shards (see <c>Loader.Records.RecordDataset.Open</c>).</summary>
    public required string DataDirectory { get; init; }

    public int BatchSize { get; init; } = 256;

    /// <summary>Decode threads. Each one decodes whole samples straight into their batch slot.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    public ulong Seed { get; init; }

    public int Rank { get; init; }

    public int WorldSize { get; init; } = 1;

    /// <summary>Training: a new permutation every epoch and random-resized-crop + flip. Evaluation: the records in
    /// their stored order, resize + center crop.</summary>
    public bool Train { get; init; } = true;

    public AugmentOptions Augment { get; init; } = new();

    public OutputSpec Output { get; init; } = OutputSpec.ImageNet();

    public LastBatchPolicy LastBatch { get; init; } = LastBatchPolicy.Partial;

    /// <summary>Batches prepared ahead of the consumer. The loader allocates <c>PrefetchDepth + 2</c> batch slots.</summary>
    public int PrefetchDepth { get; init; } = 2;

    /// <summary>
    /// Samples whose reads are issued ahead of the decode workers, in plan order (the OS reads them into the page
    /// cache in the background, many at once), so that on cold storage a worker's read finds its record in memory
    /// instead of waiting for the disk. 0 turns the read-ahead off. Costs page cache, not loader memory.
    /// </summary>
    public int ReadAheadSamples { get; init; } = DefaultReadAheadSamples;

    /// <summary>
    /// Take what is there when the record set is incomplete (shards missing or disagreeing with the manifest, or no
    /// manifest and names that do not prove the set whole) instead of refusing it; each part left out is written to
    /// <see cref="Log"/> when the loader opens.
    /// </summary>
    public bool AllowPartial { get; init; }

    /// <summary>Stop with an error at the first bad record instead of skipping it.</summary>
    public bool Strict { get; init; }

    public bool VerifyCrc { get; init; } = true;

    /// <summary>0 (default): a full shuffle every epoch. N &gt; 1: block-local shuffle for slow storage, reading N
    /// consecutive records together (blocks in random order, records shuffled inside their block).</summary>
    public int ShuffleBlockSize { get; init; }

    /// <summary>Where batches go: <see cref="LoaderDevice.Cpu"/> (host memory, CPU decode) or
    /// <see cref="LoaderDevice.Cuda"/> (GPU memory, nvJPEG decode and CUDA augmentation).</summary>
    public LoaderDevice Device { get; init; } = LoaderDevice.Cpu;

    /// <summary>
    /// Host batches only: page-lock the batch slots with CUDA (<c>cuMemHostRegister</c>) so that a trainer on GPU
    /// <see cref="PinMemoryDevice"/> can copy them asynchronously (PyTorch's <c>pin_memory=True</c>). Needs a GPU.
    /// </summary>
    public bool PinMemory { get; init; }

    /// <summary>The CUDA device whose context pins the host slots (with <see cref="PinMemory"/>).</summary>
    public int PinMemoryDevice { get; init; }

    /// <summary>
    /// Images whose JPEG header claims more pixels are bad samples, refused before anything is allocated for them
    /// (decompression bombs). The default is make-records' (and PIL's error threshold): 178,956,970.
    /// </summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>GPU loaders: nvJPEG's backends and batching (null: the defaults).</summary>
    public GpuDecodeOptions? GpuDecode { get; init; }

    /// <summary>GPU loaders: the stream (<c>CUstream</c>) that reads the batches; 0 is the legacy default stream,
    /// the one libtorch uses. The loader makes it wait for each batch when the consumer takes it.</summary>
    public nint ConsumerStream { get; init; }

    /// <summary>Where the one line per bad sample goes; <c>null</c> writes to standard error.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>See <see cref="ReadAheadSamples"/>.</summary>
    public const int DefaultReadAheadSamples = 1024;

    /// <summary>See <see cref="MaxPixels"/>.</summary>
    public const long DefaultMaxPixels = 178_956_970;

    internal int SlotCount => PrefetchDepth + 2;

    /// <summary><see cref="Log"/>, or standard error when it is null.</summary>
    internal Action<string> LogSink => Log ?? (line => Console.Error.WriteLine(line));

    /// <summary>Opens the records these options name, reporting loudly what an allowed partial set left out.</summary>
    internal Records.RecordDataset OpenRecords()
    {
        var dataset = Records.RecordDataset.Open(DataDirectory, new Records.RecordReadOptions(VerifyCrc, AllowPartial));
        foreach (string part in dataset.LeftOut)
        {
            LogSink($"loader: PARTIAL record set (AllowPartial): {part}");
        }

        return dataset;
    }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(DataDirectory);
        ArgumentNullException.ThrowIfNull(Augment);
        ArgumentNullException.ThrowIfNull(Output);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(WorldSize);
        ArgumentOutOfRangeException.ThrowIfNegative(Rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(Rank, WorldSize);
        ArgumentOutOfRangeException.ThrowIfNegative(PrefetchDepth);
        ArgumentOutOfRangeException.ThrowIfNegative(ShuffleBlockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPixels);
        ArgumentOutOfRangeException.ThrowIfNegative(ReadAheadSamples);
        if (PinMemory && Device.IsCuda)
        {
            throw new ArgumentException("PinMemory is for host batches; a CUDA loader's batches are already in GPU memory.");
        }
        if (!Enum.IsDefined(LastBatch))
        {
            throw new ArgumentOutOfRangeException(nameof(LastBatch), LastBatch, "Unknown last-batch policy.");
        }

        if (Augment.OutputSize != Output.Width || Augment.OutputSize != Output.Height)
        {
            throw new ArgumentException(
                $"Augment.OutputSize ({Augment.OutputSize}) must equal the output size ({Output.Width}x{Output.Height}).");
        }

        if ((long)BatchSize * Output.BytesPerSample > int.MaxValue)
        {
            throw new ArgumentException(
                $"A batch of {BatchSize} samples of {Output.BytesPerSample} bytes exceeds 2 GiB; use a smaller batch.");
        }
    }
}
