using Loader.Trainer.Interop;
using TorchSharp;

namespace Loader.Trainer.Precision;

/// <summary>
/// The equivalent of PyTorch's <c>with torch.autocast(device, dtype):</c> on the calling thread. Ops inside run in the
/// lower precision where libtorch's autocast lists say it is safe (convolutions, matmuls) and in fp32 elsewhere;
/// parameters and their gradients stay fp32. Restores the previous state on dispose, so scopes nest.
/// </summary>
public sealed class AutocastScope : IDisposable
{
    private readonly sbyte _device;
    private readonly bool _previousEnabled;
    private readonly sbyte _previousDtype;
    private bool _disposed;

    private AutocastScope(sbyte device, sbyte dtype)
    {
        _device = device;
        _previousEnabled = AutocastNative.is_autocast_enabled(device);
        _previousDtype = AutocastNative.get_autocast_dtype(device);
        AutocastNative.set_autocast_enabled(device, true);
        AutocastNative.set_autocast_dtype(device, dtype);
        AutocastNative.increment_nesting();
    }

    /// <summary>Enters autocast for <paramref name="mode"/> on <paramref name="device"/>; null for <see cref="AmpMode.Off"/>.</summary>
    public static AutocastScope? Enter(AmpMode mode, torch.Device device)
    {
        if (mode == AmpMode.Off) return null;
        TorchRuntime.EnsureLoaded();
        AutocastNative.Initialize();
        sbyte deviceType = device.type == DeviceType.CUDA ? AutocastNative.DeviceCuda : AutocastNative.DeviceCpu;
        sbyte dtype = mode == AmpMode.Fp16 ? AutocastNative.ScalarHalf : AutocastNative.ScalarBFloat16;
        return new AutocastScope(deviceType, dtype);
    }

    /// <summary>Whether autocast is on for the device on this thread (for tests and diagnostics).</summary>
    public static bool IsEnabled(torch.Device device)
    {
        TorchRuntime.EnsureLoaded();
        AutocastNative.Initialize();
        return AutocastNative.is_autocast_enabled(device.type == DeviceType.CUDA ? AutocastNative.DeviceCuda : AutocastNative.DeviceCpu);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Like torch.autocast.__exit__: the cast cache lives until the outermost scope ends.
        if (AutocastNative.decrement_nesting() == 0) AutocastNative.clear_cache();
        AutocastNative.set_autocast_enabled(_device, _previousEnabled);
        AutocastNative.set_autocast_dtype(_device, _previousDtype);
    }
}
