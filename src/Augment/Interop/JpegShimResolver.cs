using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Loader.Augment.Interop;

/// <summary>
/// Loads libloader_jpeg.so for <see cref="LibLoaderJpeg"/> the way the runtime would (next to the assembly, or from
/// the package's <c>runtimes/linux-x64/native</c> through the deps.json probing paths), and when that fails because
/// the system's libjpeg-turbo runtime is missing, says so in one line naming the package to install, instead of the
/// runtime's several paragraphs of probing attempts. Any other failure keeps the runtime's own message.
/// </summary>
internal static partial class JpegShimResolver
{
    private static int _registered;

    /// <summary>Installs the resolver for this assembly once (from <see cref="LibLoaderJpeg"/>'s static constructor).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(JpegShimResolver).Assembly, Resolve);
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibLoaderJpeg.LibraryName)
        {
            return 0; // not ours: the runtime's default probing
        }

        return Load(() => NativeLibrary.Load(libraryName, assembly, searchPath));
    }

    /// <summary>Runs one way of loading the shim; a failure for want of libjpeg becomes the one-line error.</summary>
    internal static nint Load(Func<nint> load)
    {
        try
        {
            return load();
        }
        catch (DllNotFoundException e) when (MissingJpegRuntime(e.Message) is { } soname)
        {
            throw new DllNotFoundException(MissingRuntimeMessage(soname), e);
        }
    }

    /// <summary>
    /// The libjpeg soname that the dynamic loader could not find, read from its error text (glibc's
    /// <c>libjpeg.so.62: cannot open shared object file: No such file or directory</c>), or null when the failure
    /// was something else (the shim itself not found, a wrong architecture, a missing symbol).
    /// </summary>
    public static string? MissingJpegRuntime(string loadError)
    {
        Match match = MissingLibjpeg().Match(loadError);
        return match.Success ? match.Groups["soname"].Value : null;
    }

    /// <summary>The one line: which library is missing and which package provides it.</summary>
    public static string MissingRuntimeMessage(string soname)
    {
        string install = soname switch
        {
            "libjpeg.so.62" => "install the libjpeg-turbo runtime: Debian 'apt-get install libjpeg62-turbo' (Ubuntu's libjpeg-turbo8 provides libjpeg.so.8 instead, which this build of the shim cannot use: build Loader.Augment from source there)",
            "libjpeg.so.8" => "install the libjpeg-turbo runtime: Ubuntu 'apt-get install libjpeg-turbo8' (Debian's libjpeg62-turbo provides libjpeg.so.62 instead, which this build of the shim cannot use: build Loader.Augment from source there)",
            _ => "install the libjpeg-turbo runtime that provides it (Debian: libjpeg62-turbo for libjpeg.so.62; Ubuntu: libjpeg-turbo8 for libjpeg.so.8)",
        };
        return $"libloader_jpeg.so (the JPEG decoder of Loader.Augment) needs {soname}, which is not installed: {install}.";
    }

    [GeneratedRegex(@"(?<soname>libjpeg\.so(\.[0-9]+)*): cannot open shared object file")]
    private static partial Regex MissingLibjpeg();
}
