using System.Buffers.Binary;
using System.Collections.Concurrent;
using Loader.Pipeline.Sources;

namespace Loader.Pipeline.Tests.Support;

/// <summary>
/// An in-memory sample source for the executor's ordering and threading tests: sample <c>id</c> of epoch <c>e</c>
/// is 16 bytes holding (id, e) and its label is <c>id % ClassCount</c>, so every delivered byte can be traced back
/// to the sample and epoch it came from. Chosen ids can be made bad (<see cref="BadSampleException"/>) or fatal
/// (any other exception), and each load can be slowed down to widen race windows.
/// </summary>
internal sealed class PatternSampleSource(long count, int classCount = 10) : ISampleSource
{
    public const int SampleBytes = 16;

    public long Count => count;

    public int ClassCount => classCount;

    public int BytesPerSample => SampleBytes;

    public HashSet<long> BadIds { get; init; } = [];

    public long FatalId { get; init; } = -1;

    public TimeSpan DelayPerSample { get; init; }

    /// <summary>Off for the allocation test: recording a load allocates.</summary>
    public bool RecordLoads { get; init; } = true;

    /// <summary>Every load attempt: (thread id, sample id).</summary>
    public ConcurrentBag<(int Thread, long Id)> Loads { get; } = [];

    public int WorkersDisposed;

    /// <summary>Every read-ahead hint, in the order issued.</summary>
    public ConcurrentQueue<long> Prefetched { get; } = new();

    public void Prefetch(long sampleId)
    {
        if (RecordLoads)
        {
            Prefetched.Enqueue(sampleId);
        }
    }

    public ISampleWorker CreateWorker() => new Worker(this);

    public string Describe(long sampleId) => $"memory record {sampleId}";

    public void Dispose()
    {
    }

    public static (long Id, int Epoch) Decode(ReadOnlySpan<byte> sample) =>
        (BinaryPrimitives.ReadInt64LittleEndian(sample), BinaryPrimitives.ReadInt32LittleEndian(sample[8..]));

    private sealed class Worker(PatternSampleSource source) : ISampleWorker
    {
        public int Load(long sampleId, int epoch, Span<byte> destination, ref StageTimes times)
        {
            if (source.RecordLoads)
            {
                source.Loads.Add((Environment.CurrentManagedThreadId, sampleId));
            }
            if (source.DelayPerSample > TimeSpan.Zero)
            {
                Thread.Sleep(source.DelayPerSample);
            }

            if (sampleId == source.FatalId)
            {
                throw new IOException($"disk on fire while reading sample {sampleId}");
            }

            if (source.BadIds.Contains(sampleId))
            {
                throw new BadSampleException(sampleId, source.Describe(sampleId), new InvalidDataException("CRC mismatch"));
            }

            BinaryPrimitives.WriteInt64LittleEndian(destination, sampleId);
            BinaryPrimitives.WriteInt32LittleEndian(destination[8..], epoch);
            BinaryPrimitives.WriteInt32LittleEndian(destination[12..], (int)(sampleId % source.ClassCount));
            times.Decode += 1;
            return (int)(sampleId % source.ClassCount);
        }

        public void Dispose() => Interlocked.Increment(ref source.WorkersDisposed);
    }
}
