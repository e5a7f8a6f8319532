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

    public const int Ok = 0;
    public const int ErrorJpeg = 1;
    public const int ErrorArgument = 2;
    public const int ErrorMemory = 3;

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
    /// </summary>
    [LibraryImport(LibraryName, EntryPoint = "loader_jpeg_decode_region")]
    public static unsafe partial int DecodeRegion(JpegDecompressorHandle decoder, byte* data, nuint size, int scaleNum,
        int x, int y, int width, int height, byte* output, nuint outputStride, nuint outputCapacity, out int leftPad,
        out int scaledWidth, out int scaledHeight, byte* message, int messageCapacity);

    /// <summary>The widest iMCU (4x horizontal sampling x 8 pixels) less one.</summary>
    public const int MaxLeftPad = 31;
}
