using Loader.Trainer.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>Tensors over memory the caller owns (the loader's batch slots): no copy, the tensor aliases it.</summary>
internal static class HostTensors
{
    /// <summary>
    /// A CPU tensor of <paramref name="type"/> and <paramref name="shape"/> whose storage is the memory at
    /// <paramref name="data"/> (libtorch's <c>from_blob</c>, no deleter: the memory must outlive the tensor).
    /// </summary>
    public static unsafe Tensor Alias(nint data, long[] shape, ScalarType type)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (data == 0) throw new ArgumentException("cannot alias a null pointer", nameof(data));
        nint handle;
        fixed (long* sizes = shape)
            handle = TensorNative.THSTensor_new(data, 0, sizes, shape.Length, (sbyte)type, (sbyte)type, 0, 0, false);
        if (handle == 0) torch.CheckForErrors();
        if (handle == 0) throw new InvalidOperationException("libtorch could not make a tensor over the batch memory");
        return Tensor.UnsafeCreateTensor(handle);
    }
}
