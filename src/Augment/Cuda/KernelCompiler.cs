using System.Security.Cryptography;
using System.Runtime.InteropServices;
using System.Text;
using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>
/// Compiles an embedded <c>.cu</c> kernel with NVRTC to a CUBIN for one architecture (<c>sm_90</c> on an H100),
/// once: the CUBIN is cached on disk under a name made of the source's SHA-256, the architecture and NVRTC's
/// version, so a second start loads it in microseconds and a changed kernel is never served stale.
/// </summary>
internal static class KernelCompiler
{
    /// <summary>Environment variable that moves the cache (default: <c>$XDG_CACHE_HOME/loader/cubin</c> or <c>~/.cache/loader/cubin</c>).</summary>
    public const string CacheVariable = "LOADER_CUDA_CACHE";

    public static string ReadEmbeddedSource(string fileName)
    {
        var name = "Loader.Augment.Cuda.Kernels." + fileName;
        using var stream = typeof(KernelCompiler).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded kernel source {name} is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public static string CacheDirectory()
    {
        var configured = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "loader", "cubin");
    }

    /// <summary>The cache file name: <c>{name}-{sha256 of source, 16 hex}-{arch}-nvrtc{version}.cubin</c>.</summary>
    public static string CacheKey(string name, string source, string architecture, string nvrtcVersion)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)))[..16];
        return $"{Path.GetFileNameWithoutExtension(name)}-{hash}-{architecture}-nvrtc{nvrtcVersion}.cubin";
    }

    /// <summary>The CUBIN for <paramref name="source"/> on <paramref name="architecture"/>, from the cache or freshly compiled.</summary>
    public static byte[] GetCubin(string name, string source, string architecture)
    {
        Nvrtc.Check(Nvrtc.nvrtcVersion(out var major, out var minor));
        var path = Path.Combine(CacheDirectory(), CacheKey(name, source, architecture, $"{major}.{minor}"));
        if (File.Exists(path))
        {
            return File.ReadAllBytes(path);
        }

        var cubin = Compile(name, source, architecture);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(temporary, cubin);
            File.Move(temporary, path, overwrite: true);  // atomic: concurrent processes never read half a file
        }
        catch (IOException)
        {
            // A read-only or full cache directory only costs a recompile next time.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return cubin;
    }

    public static unsafe byte[] Compile(string name, string source, string architecture)
    {
        Nvrtc.Check(Nvrtc.nvrtcCreateProgram(out var program, source, name, 0, 0, 0));
        try
        {
            string[] options = [$"--gpu-architecture={architecture}", "--std=c++17"];
            var encoded = options.Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
            var handles = encoded.Select(e => GCHandle.Alloc(e, GCHandleType.Pinned)).ToArray();
            int result;
            try
            {
                var pointers = stackalloc byte*[encoded.Length];
                for (var i = 0; i < encoded.Length; i++)
                {
                    pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
                }

                result = Nvrtc.nvrtcCompileProgram(program, encoded.Length, pointers);
            }
            finally
            {
                foreach (var handle in handles)
                {
                    handle.Free();
                }
            }

            if (result != Nvrtc.NVRTC_SUCCESS)
            {
                throw new CudaException("NVRTC", "nvrtcCompileProgram", result,
                    $"{Nvrtc.Describe(result)} compiling {name} for {architecture}:\n{ProgramLog(program)}");
            }

            Nvrtc.Check(Nvrtc.nvrtcGetCUBINSize(program, out var size));
            var cubin = new byte[(int)size];
            fixed (byte* pointer = cubin)
            {
                Nvrtc.Check(Nvrtc.nvrtcGetCUBIN(program, pointer));
            }

            return cubin;
        }
        finally
        {
            _ = Nvrtc.nvrtcDestroyProgram(ref program);
        }
    }

    private static unsafe string ProgramLog(nint program)
    {
        if (Nvrtc.nvrtcGetProgramLogSize(program, out var size) != Nvrtc.NVRTC_SUCCESS || size <= 1)
        {
            return "(no log)";
        }

        var log = new byte[(int)size];
        fixed (byte* pointer = log)
        {
            _ = Nvrtc.nvrtcGetProgramLog(program, pointer);
        }

        return Encoding.UTF8.GetString(log, 0, log.Length - 1);
    }
}
