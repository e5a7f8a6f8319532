using static TorchSharp.torch;

namespace Loader.Trainer.Models;

/// <summary>
/// Channels-last (NHWC in memory, NCHW in shape) without a memory-format API: TorchSharp 0.107 has no
/// <c>contiguous(memory_format)</c>, but a memory format is only a stride pattern, and libtorch's convolution, batch
/// norm and pooling kernels pick their NHWC paths from the strides they are given. So an NHWC-contiguous tensor viewed
/// as NCHW (<c>permute(0, 3, 1, 2)</c>) is exactly what PyTorch's <c>x.contiguous(memory_format=torch.channels_last)</c>
/// returns, and <c>set_</c> moves a parameter to that layout in place, as PyTorch's
/// <c>model.to(memory_format=torch.channels_last)</c> does.
/// </summary>
public static class ChannelsLast
{
    /// <summary>The same values in channels-last memory order (a new tensor; the caller disposes it).</summary>
    public static Tensor Copy(Tensor nchw)
    {
        if (nchw.dim() != 4) throw new ArgumentException($"channels-last needs a 4-d NCHW tensor; got {nchw.dim()} dimensions.", nameof(nchw));
        using Tensor nhwc = nchw.permute(0, 2, 3, 1).contiguous();
        return nhwc.permute(0, 3, 1, 2);
    }

    /// <summary>Whether a 4-d tensor's strides are channels-last-contiguous (what libtorch's
    /// <c>is_contiguous(channels_last)</c> checks; dimensions of size 1 do not constrain their stride).</summary>
    public static bool Is(Tensor tensor)
    {
        if (tensor.dim() != 4) return false;
        long[] shape = tensor.shape;
        long[] strides = tensor.stride();
        long expected = 1;
        foreach (int d in (ReadOnlySpan<int>)[1, 3, 2, 0])
        {
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    /// <summary>Moves every 4-d parameter (the convolution weights) to channels-last in place: the parameter objects stay
    /// the same, so an optimizer built before or after sees them.</summary>
    public static void ConvertModel(nn.Module model) => Convert(model.parameters());

    /// <summary>Moves every 4-d tensor among <paramref name="tensors"/> to channels-last in place (<c>set_</c>: the same
    /// tensor objects, new storage); the others, and those already channels-last, are left alone.</summary>
    public static void Convert(IEnumerable<Tensor> tensors) => SetLayout(tensors, channelsLast: true);

    /// <summary>
    /// Runs <paramref name="action"/> with the 4-d tensors among <paramref name="tensors"/> in plain (NCHW-contiguous)
    /// memory order, then moves them back to channels-last. TorchSharp's save and load copy raw bytes and refuse
    /// non-contiguous tensors; the files stay in the plain layout, so a checkpoint does not depend on this option.
    /// </summary>
    public static void WhileContiguous(IEnumerable<Tensor> tensors, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Tensor[] layoutSensitive = [.. tensors.Where(t => t.dim() == 4)];
        SetLayout(layoutSensitive, channelsLast: false);
        try
        {
            action();
        }
        finally
        {
            SetLayout(layoutSensitive, channelsLast: true);
        }
    }

    private static void SetLayout(IEnumerable<Tensor> tensors, bool channelsLast)
    {
        using var noGrad = no_grad();
        foreach (Tensor tensor in tensors)
        {
            if (tensor.dim() != 4 || (channelsLast ? Is(tensor) : tensor.is_contiguous())) continue;
            using Tensor moved = channelsLast ? Copy(tensor) : tensor.contiguous();
            tensor.set_(moved);
        }
    }
}
