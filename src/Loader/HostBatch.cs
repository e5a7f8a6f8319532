using Loader.Augment;
using Loader.Pipeline.Execution;

namespace Loader.Pipeline;

/// <summary>
/// A batch in host memory (a loader with <see cref="LoaderDevice.Cpu"/>): the images sit in the loader's
/// page-aligned slot memory, which never moves, so <see cref="ImagesPointer"/> can back a tensor directly (no copy),
/// or feed an asynchronous GPU copy when the slots are page-locked (<see cref="LoaderOptions.PinMemory"/>).
/// </summary>
public sealed class HostBatch : Batch
{
    private readonly BatchSlot _slot;
    private readonly Action<HostBatch> _release;

    internal HostBatch(BatchSlot slot, OutputSpec output, Action<HostBatch> release)
        : base(output)
    {
        _slot = slot;
        _release = release;
    }

    /// <summary><see cref="Batch.Count"/> * <see cref="OutputSpec.BytesPerSample"/> bytes in the layout of
    /// <see cref="Batch.Shape"/>.</summary>
    public Span<byte> Images
    {
        get
        {
            ThrowIfNotHeld();
            return _slot.Images(Count);
        }
    }

    /// <summary>The address of <see cref="Images"/> (page-aligned); valid until the batch is disposed.</summary>
    public nint ImagesPointer
    {
        get
        {
            ThrowIfNotHeld();
            return _slot.ImagesPointer;
        }
    }

    /// <summary>True when the slot memory is page-locked with CUDA (<see cref="LoaderOptions.PinMemory"/>).</summary>
    public bool IsPageLocked => _slot.IsPageLocked;

    internal BatchSlot Slot => _slot;

    internal override int[] LabelStore => _slot.Labels;

    internal override long[] SampleIdStore => _slot.SampleIds;

    internal override long[] PlannedIds => _slot.PlannedIds;

    private protected override void Release() => _release(this);
}
