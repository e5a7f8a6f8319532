using System.Runtime.InteropServices;

namespace Loader.Pipeline.Execution;

/// <summary>
/// Memory for one batch, allocated once and reused for the loader's lifetime: page-aligned native memory for the
/// images (it never moves, so its pointer can go straight to a GPU copy or a tensor), labels and sample ids.
/// </summary>
internal sealed unsafe class BatchSlot : IDisposable
{
    private const int PageSize = 4096;

    private byte* _images;

    public BatchSlot(int batchSize, int bytesPerSample)
    {
        BatchSize = batchSize;
        BytesPerSample = bytesPerSample;
        ImageBytes = checked(batchSize * bytesPerSample);
        _images = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(ImageBytes, 1), PageSize);

        // Touch every page now: the first write to a fresh page is slow (a page fault, about 10 us per 4 KiB on
        // small VMs), and paying it here keeps it out of the first epochs' batch times and makes the resident
        // size honest from the start.
        NativeMemory.Clear(_images, (nuint)ImageBytes);
        Labels = new int[batchSize];
        SampleIds = new long[batchSize];
        PlannedIds = new long[batchSize];
    }

    public int BatchSize { get; }

    public int BytesPerSample { get; }

    public int ImageBytes { get; }

    public bool IsDisposed => _images == null;

    /// <summary>The CUDA page-lock of the image memory (<see cref="LoaderOptions.PinMemory"/>), if any.</summary>
    public IDisposable? PageLock { get; set; }

    public bool IsPageLocked => PageLock is not null;

    public nint ImagesPointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_images == null, this);
            return (nint)_images;
        }
    }

    /// <summary>The delivered labels (after bad samples were replaced).</summary>
    public int[] Labels { get; }

    /// <summary>The delivered sample ids (after bad samples were replaced).</summary>
    public long[] SampleIds { get; }

    /// <summary>The ids the plan put in this batch, before any replacement: what replacements must not repeat.</summary>
    public long[] PlannedIds { get; }

    public Span<byte> Images(int count) =>
        new((void*)ImagesPointer, count * BytesPerSample);

    public Span<byte> Sample(int index) =>
        new((byte*)ImagesPointer + ((long)index * BytesPerSample), BytesPerSample);

    public void Dispose()
    {
        PageLock?.Dispose();
        PageLock = null;
        byte* images = _images;
        _images = null;
        if (images != null)
        {
            NativeMemory.AlignedFree(images);
        }
    }
}
