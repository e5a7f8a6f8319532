using System.Runtime.InteropServices;

namespace Loader.Tools.MakeRecords.Interop;

/// <summary>The one libc call make-records needs: <c>realpath(3)</c>, every symbolic link of a path resolved.</summary>
internal static partial class LibC
{
    /// <summary>The canonical path of an existing file or folder (links, "." and ".." resolved); null when it cannot be
    /// resolved (broken link, loop, no permission).</summary>
    public static string? RealPath(string path)
    {
        nint resolved = realpath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    // With a null buffer, realpath allocates the result with malloc: the caller frees it.
    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void free(nint pointer);
}
