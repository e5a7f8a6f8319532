using System.Reflection;
using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Interop;

/// <summary>
/// Finds the CUDA libraries this assembly binds to (<c>cuda</c>, <c>nvrtc</c>, <c>nvjpeg</c>). They live in
/// different places on different machines: the driver is always on the loader path (<c>libcuda.so.1</c>), but
/// NVRTC and nvJPEG may come from a CUDA toolkit (<c>/usr/local/cuda-13.0/lib64</c>), from pip wheels
/// (<c>site-packages/nvidia/cu13/lib</c>, <c>nvidia/nvjpeg/lib</c>) or bundled next to PyTorch
/// (<c>torch/lib</c>), with a CUDA 13 or CUDA 12 soname. We try them in a fixed, documented order.
/// </summary>
internal static class CudaLibraryResolver
{
    public const string Driver = "cuda";
    public const string Nvrtc = "nvrtc";
    public const string NvJpeg = "nvjpeg";

    /// <summary>Environment variable naming one directory to search first (for unusual installs).</summary>
    public const string OverrideVariable = "LOADER_CUDA_LIB_DIR";

    private static int _registered;
    private static readonly Dictionary<string, string> s_loadedFrom = [];
    private static readonly Dictionary<string, string> s_failures = [];

    /// <summary>Installs the resolver for this assembly once; every interop class calls this from its static constructor.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraryResolver).Assembly, Resolve);
        }
    }

    /// <summary>Where a library was loaded from, or null when it was not (yet) loaded.</summary>
    public static string? LoadedFrom(string library)
    {
        lock (s_loadedFrom)
        {
            return s_loadedFrom.GetValueOrDefault(library);
        }
    }

    /// <summary>Why a library could not be loaded (the candidates tried), or null.</summary>
    public static string? FailureReason(string library)
    {
        lock (s_loadedFrom)
        {
            return s_failures.GetValueOrDefault(library);
        }
    }

    /// <summary>Sonames to try, newest CUDA first; a bare development name last (only toolkits install it).</summary>
    public static IReadOnlyList<string> SonamesFor(string library) => library switch
    {
        Driver => ["libcuda.so.1", "libcuda.so"],
        Nvrtc => ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"],
        NvJpeg => ["libnvjpeg.so.13", "libnvjpeg.so.12", "libnvjpeg.so"],
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, "not a CUDA library this assembly binds"),
    };

    /// <summary>
    /// Directories to search, in order: the override variable, <c>CUDA_HOME</c>/<c>CUDA_PATH</c>, the toolkit under
    /// <c>/usr/local/cuda</c>, versioned toolkits (newest first), pip wheels (CUDA 13 layout, then CUDA 12 layout),
    /// and PyTorch's own <c>torch/lib</c>. Only directories that exist are returned. <paramref name="root"/> prefixes
    /// every absolute path (tests point it at a fake tree); <paramref name="environment"/> reads variables.
    /// </summary>
    public static IReadOnlyList<string> SearchDirectories(string library, string root, Func<string, string?> environment)
    {
        var directories = new List<string>();
        void Add(string? path)
        {
            if (!string.IsNullOrEmpty(path) && Directory.Exists(path) && !directories.Contains(path))
            {
                directories.Add(path);
            }
        }

        Add(environment(OverrideVariable));
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
        {
            var home = environment(variable);
            if (!string.IsNullOrEmpty(home))
            {
                Add(Path.Combine(home, "lib64"));
                Add(Path.Combine(home, "lib"));
            }
        }

        Add(Path.Join(root, "/usr/local/cuda/lib64"));
        Add(Path.Join(root, "/usr/local/cuda/targets/x86_64-linux/lib"));
        foreach (var toolkit in NewestFirst(Path.Join(root, "/usr/local"), "cuda-*"))
        {
            Add(Path.Combine(toolkit, "lib64"));
            Add(Path.Combine(toolkit, "targets/x86_64-linux/lib"));
        }

        // pip wheels: CUDA 13 puts every library in nvidia/cu13/lib; CUDA 12 has one package per library.
        var wheelFolder = library switch { Nvrtc => "cuda_nvrtc", NvJpeg => "nvjpeg", _ => null };
        foreach (var packages in SitePackages(root, environment))
        {
            if (wheelFolder is null)
            {
                continue;
            }

            Add(Path.Combine(packages, "nvidia/cu13/lib"));
            Add(Path.Combine(packages, "nvidia", wheelFolder, "lib"));
        }

        foreach (var packages in SitePackages(root, environment))
        {
            Add(Path.Combine(packages, "torch/lib"));
        }

        return directories;
    }

    /// <summary>
    /// Every path to try for <paramref name="library"/>, in order: each soname bare (the system loader's own search:
    /// <c>LD_LIBRARY_PATH</c>, ldconfig cache), then each search directory with each soname.
    /// </summary>
    public static IReadOnlyList<string> Candidates(string library, string root, Func<string, string?> environment)
    {
        var sonames = SonamesFor(library);
        var candidates = new List<string>(sonames);
        foreach (var directory in SearchDirectories(library, root, environment))
        {
            foreach (var soname in sonames)
            {
                candidates.Add(Path.Combine(directory, soname));
            }
        }

        return candidates;
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName is not (Driver or Nvrtc or NvJpeg))
        {
            return IntPtr.Zero;
        }

        var tried = new List<string>();
        foreach (var candidate in Candidates(libraryName, "/", Environment.GetEnvironmentVariable))
        {
            // Bare sonames go to the system loader; paths are tried only when the file exists (cheap, quiet).
            if (candidate.Contains('/') && !File.Exists(candidate))
            {
                continue;
            }

            tried.Add(candidate);
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                lock (s_loadedFrom)
                {
                    s_loadedFrom[libraryName] = candidate;
                }

                return handle;
            }
        }

        lock (s_loadedFrom)
        {
            s_failures[libraryName] = "tried " + string.Join(", ", tried);
        }

        return IntPtr.Zero;
    }

    private static IEnumerable<string> NewestFirst(string directory, string pattern)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return Directory.GetDirectories(directory, pattern)
            .OrderByDescending(d => ParseVersion(Path.GetFileName(d)))
            .ThenByDescending(d => d, StringComparer.Ordinal);
    }

    // "cuda-12.4" -> 12.4, "python3.11" -> 3.11; unparseable names sort last.
    private static Version ParseVersion(string name)
    {
        var digits = new string([.. name.SkipWhile(c => !char.IsAsciiDigit(c))]);
        return Version.TryParse(digits.Contains('.') ? digits : digits + ".0", out var version) ? version : new Version(0, 0);
    }

    private static IEnumerable<string> SitePackages(string root, Func<string, string?> environment)
    {
        var prefixes = new List<string>();
        foreach (var variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
        {
            var prefix = environment(variable);
            if (!string.IsNullOrEmpty(prefix))
            {
                prefixes.Add(Path.Join(root, prefix, "lib"));
            }
        }

        var home = environment("HOME");
        if (!string.IsNullOrEmpty(home))
        {
            prefixes.Add(Path.Join(root, home, ".local/lib"));
        }

        prefixes.Add(Path.Join(root, "/usr/local/lib"));
        prefixes.Add(Path.Join(root, "/usr/lib"));
        prefixes.Add(Path.Join(root, "/opt/conda/lib"));

        foreach (var prefix in prefixes)
        {
            foreach (var python in NewestFirst(prefix, "python3*"))
            {
                foreach (var kind in new[] { "site-packages", "dist-packages" })
                {
                    var packages = Path.Combine(python, kind);
                    if (Directory.Exists(packages))
                    {
                        yield return packages;
                    }
                }
            }
        }
    }
}
