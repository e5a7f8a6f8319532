using System.Runtime.InteropServices;

namespace Loader.Augment.Interop;

/// <summary>
/// P/Invoke declarations for libloader_jpeg.so, the project's C shim over the system libjpeg-turbo
/// (Native/jpeg_shim.c, compiled by Augment.csproj and copied next to the assembly). Every function returns one of
/// the codes below; on failure a NUL-terminated message is in the caller's buffer.
/// </summary>
internal static partial class LibLoaderJpeg
{
    public const string LibraryName = "loader_jpeg";

    // Before the first call: a missing libjpeg-turbo runtime becomes one line naming the package (JpegShimResolver).
    static LibLoaderJpeg() => JpegShimResolver.Register();

    public const int Ok = 0;
    public const int ErrorJpeg = 1;
    public const int ErrorArgument = 2;
    public const int ErrorMemory = 3;

    /// <summary><see cref="Transcode"/>: the JPEG reads, but transcoding it would change its pixels (the message says why).</summary>
    public const int ErrorNotLossless = 4;

    /// <summary>Returns a new decompressor, or null when out of memory.</summary>
    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_create")]
    public static partial JpegDecompressorHandle Create();

    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_destroy")]
    public static partial void Destroy(nint decoder);

    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_read_header")]
    public static unsafe partial int ReadHeader(JpegDecompressorHandle decoder, byte* data, nuint size, out int width,
        out int height, out int components, byte* message, int messageCapacity);

    /// <summary>
    /// Rows may start up to <see cref="MaxLeftPad"/> pixels left of <paramref name="x"/> (libjpeg crops at iMCU
    /// boundaries): pixel x lands at <c>row * outputStride + leftPad * 3</c>. A stride of (width + MaxLeftPad) * 3 lets
    /// libjpeg write the rows in place; a smaller one costs a copy per row.
    /// <para>
    /// <paramref name="strict"/> 1: every libjpeg warning (bad Huffman code, premature end of an interval, extraneous
    /// bytes, resynchronization) fails the decode instead of being tolerated. For sub-JPEGs the splicer built, whose
    /// markers are all its own: such a warning can only mean a corrupt interval. It holds for this call only (header
    /// reads are always tolerant).
    /// </para>
    /// </summary>
    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_decode_region")]
    public static unsafe partial int DecodeRegion(JpegDecompressorHandle decoder, byte* data, nuint size, int strict, int scaleNum,
        int x, int y, int width, int height, byte* output, nuint outputStride, nuint outputCapacity, out int leftPad,
        out int scaledWidth, out int scaledHeight, byte* message, int messageCapacity);

    /// <summary>
    /// Rewrites a baseline or progressive JPEG losslessly as baseline with a restart marker every
    /// <paramref name="restartMcus"/> MCUs and optimized Huffman tables; APPn and COM markers copied when
    /// <paramref name="copyMarkers"/> is 1. On success <paramref name="output"/> is a
    /// buffer the shim allocated: release it with <see cref="Free"/>. <see cref="ErrorNotLossless"/> for a progressive
    /// JPEG libjpeg decodes with block smoothing (its first ACs are not all sent), which a baseline file cannot carry.
    /// </summary>
    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_transcode")]
    public static unsafe partial int Transcode(byte* data, nuint size, int restartMcus, int copyMarkers, out nint output, out nuint outputSize,
        byte* message, int messageCapacity);

    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_free")]
    public static partial void Free(nint buffer);

    /// <summary>libjpeg's own entropy decoder for every file: the tests' reference (<see cref="SetFastEntropy"/>).</summary>
    public const int EntropyLibjpeg = 0;

    /// <summary>The shim's Huffman decoder, one MCU after another (<see cref="SetFastEntropy"/>).</summary>
    public const int EntropyFast = 1;

    /// <summary>The shim's Huffman decoder, two MCU rows at a time where the intervals tile the rows: the default.</summary>
    public const int EntropyPaired = 2;

    /// <summary>
    /// How JPEGs with restart intervals are entropy-decoded. By default (<see cref="EntropyPaired"/>) the shim's own
    /// Huffman decoder does it, which keeps a fast path through restart markers (libjpeg-turbo 2.1 drops to its slow
    /// path for any file with restart intervals) and decodes each MCU row together with the row below it, symbol by
    /// symbol in turn, so that two independent bit streams keep the CPU busy; the coefficients, so the pixels, are the
    /// same. <see cref="EntropyLibjpeg"/>: libjpeg decodes everything itself, the tests' reference.
    /// </summary>
    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_set_fast_entropy")]
    public static partial void SetFastEntropy(JpegDecompressorHandle decoder, int mode);

    /// <summary>How many MCU rows the decoder's last decode read in pairs (diagnostics for tests and benchmarks).</summary>
    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_paired_rows")]
    public static partial int PairedRows(JpegDecompressorHandle decoder);

    /// <summary>
    /// Row slack of the in-place decode: rows start up to one iMCU (4x horizontal sampling x 8 pixels = 32) left of x,
    /// and the shim decodes one pixel past the rectangle's right edge (so that fancy upsampling's edge replication
    /// falls outside it).
    /// </summary>
    public const int MaxLeftPad = 33;
}
