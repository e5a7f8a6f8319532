using System.Runtime.InteropServices;

namespace Loader.Trainer.Interop;

/// <summary>LibTorchSharp exports that TorchSharp keeps internal.</summary>
internal static partial class TensorNative
{
    /// <summary>The address of a tensor's first element (TorchSharp hides data_ptr). Valid while the tensor lives.</summary>
    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    public static partial nint THSTensor_data(nint tensorHandle);
}
