using System.Runtime.InteropServices;

namespace Loader.Records.Interop;

/// <summary>The C library calls the reader needs that .NET does not expose.</summary>
internal static partial class LibC
{
    /// <summary><c>POSIX_FADV_WILLNEED</c>: start reading the range into the page cache now, asynchronously.</summary>
    public const int PosixFadviseWillNeed = 3;

    /// <summary>
    /// <c>posix_fadvise(fd, offset, len, advice)</c>; returns 0 or an errno value (it does not set errno). Advice is
    /// a hint: callers ignore failures (e.g. ESPIPE on a pipe, or a file system without read-ahead).
    /// </summary>
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    public static partial int PosixFadvise(int fd, long offset, long length, int advice);
}
