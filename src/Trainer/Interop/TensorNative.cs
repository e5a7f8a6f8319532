using System.Runtime.InteropServices;

namespace Loader.Trainer.Interop;

/// <summary>LibTorchSharp exports that TorchSharp keeps internal.</summary>
internal static partial class TensorNative
{
    /// <summary>The address of a tensor's first element (TorchSharp hides data_ptr). Valid while the tensor lives.</summary>
    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    public static partial nint THSTensor_data(nint tensorHandle);

    /// <summary>
    /// <c>torch::from_blob</c> over existing memory (LibTorchSharp 0.107's signature): a tensor of
    /// <paramref name="scalarType"/> that aliases <paramref name="data"/> without copying when
    /// <paramref name="dtype"/> equals it and <paramref name="deviceType"/> is 0 (CPU). <paramref name="deleter"/> 0:
    /// the memory stays the caller's. Returns 0 on error (the message is in LibTorchSharp's last-error slot).
    /// </summary>
    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_new")]
    public static unsafe partial nint THSTensor_new(nint data, nint deleter, long* sizes, int sizeCount, sbyte scalarType,
                                                    sbyte dtype, int deviceType, int deviceIndex,
                                                    [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
}
