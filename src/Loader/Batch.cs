using Loader.Augment;

namespace Loader.Pipeline;

/// <summary>
/// A finished batch: images, 0-based labels and the ids of the records they came from. Its type says where the
/// images live: <see cref="HostBatch"/> (host memory) or <see cref="DeviceBatch"/> (GPU memory). Dispose it when
/// done so that its slot can be refilled: the loader has only <see cref="LoaderOptions.PrefetchDepth"/> + 2 slots,
/// and each slot keeps its one batch object, so a step allocates nothing (do not use a batch after disposing it).
/// </summary>
public abstract class Batch : IDisposable
{
    private int[] _shape = [];
    private int _count;
    private int _held;

    private protected Batch(OutputSpec output) => Output = output;

    /// <summary>Samples in this batch (less than the batch size only for a Partial last batch).</summary>
    public int Count => _count;

    /// <summary>0-based class labels.</summary>
    public ReadOnlySpan<int> Labels => LabelStore.AsSpan(0, Count);

    /// <summary>The records the samples came from (a bad record's replacement appears under its own id).</summary>
    public ReadOnlySpan<long> SampleIds => SampleIdStore.AsSpan(0, Count);

    public OutputSpec Output { get; }

    /// <summary>NCHW: [Count, 3, H, W]; NHWC: [Count, H, W, 3].</summary>
    public int[] Shape
    {
        get
        {
            if (_shape.Length == 0 || _shape[0] != _count)
            {
                _shape = Output.Layout == PixelLayout.Nchw
                    ? [_count, OutputSpec.Channels, Output.Height, Output.Width]
                    : [_count, Output.Height, Output.Width, OutputSpec.Channels];
            }

            return _shape;
        }
    }

    /// <summary>Bytes of image data: <see cref="Count"/> * <see cref="OutputSpec.BytesPerSample"/>.</summary>
    public long ImageBytes => (long)Count * Output.BytesPerSample;

    public int Epoch { get; private set; }

    /// <summary>The global position (see <see cref="LoaderState.Position"/>) of the epoch where this batch starts.</summary>
    public long Position { get; private set; }

    /// <summary>The loader's state once this batch has been taken: resuming from it yields the next batch.</summary>
    public LoaderState StateAfter { get; private set; }

    /// <summary>True between the loader handing the batch out and its disposal.</summary>
    public bool IsHeld => Volatile.Read(ref _held) == 1;

    /// <summary>Index of the batch in its epoch run.</summary>
    internal int Index { get; private set; }

    /// <summary>Samples still being decoded; the batch is published when this reaches zero (CPU loader).</summary>
    internal int Remaining;

    internal abstract int[] LabelStore { get; }

    internal abstract long[] SampleIdStore { get; }

    /// <summary>The ids the plan put in this batch, before any replacement: what replacements must not repeat.</summary>
    internal abstract long[] PlannedIds { get; }

    /// <summary>Gives the slot's batch object its next batch (the loader, before filling it).</summary>
    internal void Lease(int index, int count, int epoch, long position, LoaderState stateAfter)
    {
        Index = index;
        _count = count;
        Epoch = epoch;
        Position = position;
        StateAfter = stateAfter;
        Remaining = count;
        Volatile.Write(ref _held, 1);
    }

    /// <summary>Called on the consumer's thread when it takes the batch (a device batch makes the consumer's
    /// stream wait for it here, as DALI's iterator does).</summary>
    internal virtual void OnTaken()
    {
    }

    /// <summary>Ends the lease (once) and reports whether this call ended it.</summary>
    internal bool EndLease() => Interlocked.Exchange(ref _held, 0) == 1;

    /// <summary>Returns the slot to the loader (after <see cref="EndLease"/>).</summary>
    private protected abstract void Release();

    /// <summary>Hands the slot back to the loader; a second call does nothing.</summary>
    public void Dispose()
    {
        if (EndLease())
        {
            Release();
        }
    }

    private protected void ThrowIfNotHeld() => ObjectDisposedException.ThrowIf(!IsHeld, this);
}
