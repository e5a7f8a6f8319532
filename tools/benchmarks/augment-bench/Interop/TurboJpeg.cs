using System.Runtime.InteropServices;

namespace Loader.Tools.AugmentBench.Interop;

/// <summary>
/// The TurboJPEG API of the system libjpeg-turbo (Debian libturbojpeg0), used only as the benchmark's baseline: a
/// plain full-image decode to RGB, the way most loaders decode. Return codes: 0 success, -1 error (tjGetErrorStr2).
/// </summary>
internal static partial class TurboJpeg
{
    private const string Library = "libturbojpeg.so.0";

    public const int PixelFormatRgb = 0; // TJPF_RGB

    [LibraryImport(Library, EntryPoint = "tjInitDecompress")]
    public static partial nint InitDecompress();

    [LibraryImport(Library, EntryPoint = "tjDestroy")]
    public static partial int Destroy(nint handle);

    [LibraryImport(Library, EntryPoint = "tjDecompressHeader3")]
    public static unsafe partial int DecompressHeader3(nint handle, byte* jpeg, nuint size, out int width, out int height,
        out int subsampling, out int colorspace);

    [LibraryImport(Library, EntryPoint = "tjDecompress2")]
    public static unsafe partial int Decompress2(nint handle, byte* jpeg, nuint size, byte* destination, int width, int pitch,
        int height, int pixelFormat, int flags);

    [LibraryImport(Library, EntryPoint = "tjGetErrorStr2")]
    public static partial nint GetErrorString(nint handle);

    public static string LastError(nint handle) => Marshal.PtrToStringUTF8(GetErrorString(handle)) ?? "unknown TurboJPEG error";
}
