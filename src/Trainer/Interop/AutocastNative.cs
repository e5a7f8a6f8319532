using System.Reflection;
using System.Runtime.InteropServices;

namespace Loader.Trainer.Interop;

/// <summary>
/// libtorch's autocast switches (at::autocast in libtorch_cpu.so), which TorchSharp does not expose. C++ functions,
/// so they are bound by mangled name (found with `nm -D --defined-only libtorch_cpu.so`). c10::DeviceType and
/// c10::ScalarType are one signed byte each. The state is per thread.
/// </summary>
internal static partial class AutocastNative
{
    private const string TorchCpu = "torch_cpu";

    public const sbyte DeviceCpu = 0;
    public const sbyte DeviceCuda = 1;
    public const sbyte ScalarHalf = 5;
    public const sbyte ScalarFloat = 6;
    public const sbyte ScalarBFloat16 = 15;

    static AutocastNative()
    {
        // libtorch_cpu.so is already in the process (TorchSharp loaded it with a full path); dlopen by soname finds it.
        NativeLibrary.SetDllImportResolver(typeof(AutocastNative).Assembly, Resolve);
    }

    /// <summary>Forces the static constructor (the resolver) before the first call.</summary>
    public static void Initialize() { }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != TorchCpu) return 0;
        foreach (string candidate in new[] { "libtorch_cpu.so", "libtorch_cpu.dylib", "torch_cpu.dll" })
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out nint handle)) return handle;
        return 0;
    }

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb")]
    public static partial void set_autocast_enabled(sbyte device, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE")]
    [return: MarshalAs(UnmanagedType.U1)]
    public static partial bool is_autocast_enabled(sbyte device);

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE")]
    public static partial void set_autocast_dtype(sbyte device, sbyte dtype);

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE")]
    public static partial sbyte get_autocast_dtype(sbyte device);

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at8autocast17increment_nestingEv")]
    public static partial long increment_nesting();

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at8autocast17decrement_nestingEv")]
    public static partial long decrement_nesting();

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at8autocast11clear_cacheEv")]
    public static partial void clear_cache();
}
