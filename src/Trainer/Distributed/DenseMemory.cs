using Loader.Trainer.Interop;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>
/// A tensor's elements as one block of memory: what a collective hands to MPI or NCCL. A tensor is dense when its
/// strides are a permutation of contiguous ones (contiguous, channels-last, ...): then its numel elements fill
/// exactly the block that starts at its data pointer.
/// </summary>
internal static class DenseMemory
{
    public static nint Pointer(Tensor tensor, string operation)
    {
        // is_contiguous costs one native call and no allocation: the per-step path (flat gradient buckets) stops there.
        if (!tensor.is_contiguous() && !IsDense(tensor))
            throw new ArgumentException($"{operation}: the tensor (shape [{string.Join(", ", tensor.shape)}]) is not dense; make it contiguous first.");
        return TensorNative.THSTensor_data(tensor.Handle);
    }

    public static bool IsDense(Tensor tensor)
    {
        long[] shape = tensor.shape, strides = tensor.stride();
        int[] order = [.. Enumerable.Range(0, shape.Length).Where(d => shape[d] != 1).OrderBy(d => strides[d])];
        long expected = 1;
        foreach (int d in order)
        {
            if (strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    public static long Bytes(Tensor tensor) => tensor.NumberOfElements * tensor.ElementSize;
}
