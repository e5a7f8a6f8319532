using Loader.Augment;
using Loader.Pipeline.Execution;

namespace Loader.Pipeline;

/// <summary>
/// A finished batch: images in pinned memory, labels and sample ids. Dispose it when done so that its slot can be
/// refilled; the loader has only <see cref="LoaderOptions.PrefetchDepth"/> + 2 slots.
/// </summary>
public sealed class Batch : IDisposable
{
    private readonly Action<Batch> _release;
    private BatchSlot? _slot;
    private int[]? _shape;

    // Samples still being decoded; the batch is published when this reaches zero.
    internal int Remaining;

    internal Batch(BatchSlot slot, Action<Batch> release, OutputSpec output, int index, int count, int epoch,
                   long position, LoaderState stateAfter)
    {
        _slot = slot;
        _release = release;
        Output = output;
        Index = index;
        Count = count;
        Epoch = epoch;
        Position = position;
        StateAfter = stateAfter;
        Remaining = count;
    }

    /// <summary>Samples in this batch (less than the batch size only for a Partial last batch).</summary>
    public int Count { get; }

    /// <summary><see cref="Count"/> * <see cref="OutputSpec.BytesPerSample"/> bytes, in pinned memory.</summary>
    public Span<byte> Images => Slot.Images(Count);

    /// <summary>The address of <see cref="Images"/>; valid until the batch is disposed.</summary>
    public nint ImagesPointer => Slot.ImagesPointer;

    /// <summary>0-based class labels.</summary>
    public ReadOnlySpan<int> Labels => Slot.Labels.AsSpan(0, Count);

    /// <summary>The records the samples came from (a bad record's replacement appears under its own id).</summary>
    public ReadOnlySpan<long> SampleIds => Slot.SampleIds.AsSpan(0, Count);

    public OutputSpec Output { get; }

    /// <summary>NCHW: [Count, 3, H, W]; NHWC: [Count, H, W, 3].</summary>
    public int[] Shape => _shape ??= Output.Layout == PixelLayout.Nchw
        ? [Count, OutputSpec.Channels, Output.Height, Output.Width]
        : [Count, Output.Height, Output.Width, OutputSpec.Channels];

    public int Epoch { get; }

    /// <summary>The global position (see <see cref="LoaderState.Position"/>) of the epoch where this batch starts.</summary>
    public long Position { get; }

    /// <summary>The loader's state once this batch has been taken: resuming from it yields the next batch.</summary>
    public LoaderState StateAfter { get; }

    internal int Index { get; }

    internal BatchSlot Slot
    {
        get
        {
            BatchSlot? slot = _slot;
            ObjectDisposedException.ThrowIf(slot is null || slot.IsDisposed, this);
            return slot;
        }
    }

    /// <summary>Takes the slot back from this batch (once) for recycling.</summary>
    internal BatchSlot? Detach() => Interlocked.Exchange(ref _slot, null);

    public void Dispose() => _release(this);
}
