using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Loader.Augment.Cuda.Interop;

/// <summary>
/// NVRTC (<c>libnvrtc.so.13</c> / <c>.12</c>, nvrtc.h): compiles our <c>.cu</c> kernels at start-up to a CUBIN for
/// the device's exact architecture, so the build needs no CUDA toolkit. Every call returns an <c>nvrtcResult</c>;
/// wrap it in <see cref="Check"/>.
/// </summary>
internal static partial class Nvrtc
{
    public const int NVRTC_SUCCESS = 0;
    public const int NVRTC_ERROR_COMPILATION = 6;

    static Nvrtc() => CudaLibraryResolver.Register();

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static partial int nvrtcVersion(out int major, out int minor);

    [LibraryImport(CudaLibraryResolver.Nvrtc, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcCreateProgram(out nint program, string source, string name, int headerCount, nint headers, nint includeNames);

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static partial int nvrtcDestroyProgram(ref nint program);

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static unsafe partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static partial int nvrtcGetProgramLogSize(nint program, out nuint size);

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static unsafe partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static partial int nvrtcGetCUBINSize(nint program, out nuint size);

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static unsafe partial int nvrtcGetCUBIN(nint program, byte* cubin);

    [LibraryImport(CudaLibraryResolver.Nvrtc)]
    public static partial nint nvrtcGetErrorString(int result);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(int result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != NVRTC_SUCCESS)
        {
            ThrowFailure(result, call);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFailure(int result, string call) =>
        throw new CudaException("NVRTC", CudaDriver.CallName(call), result, Describe(result));

    /// <summary>NVRTC's own text for a result, e.g. "NVRTC_ERROR_COMPILATION".</summary>
    public static string Describe(int result) =>
        Marshal.PtrToStringUTF8(nvrtcGetErrorString(result)) ?? $"nvrtcResult {result}";
}
