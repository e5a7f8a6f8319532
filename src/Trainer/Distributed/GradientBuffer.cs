using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>
/// One flat gradient tensor per dtype with every parameter's <c>.grad</c> a view of it (with the parameter's own
/// strides, so channels-last weights get channels-last gradients), cut into buckets of at most
/// <see cref="FusionBytes"/> that are all-reduced in place after backward and then averaged: Horovod's tensor fusion
/// without the copies in and out of a fusion buffer. Autograd accumulates into an existing <c>.grad</c> in place
/// and <c>zero_grad</c> zeroes it in place, so the views survive every step (<see cref="IsAttached"/> checks).
/// Everything (bucket views, the averaging scalar) is made once: a reduction allocates nothing.
/// </summary>
public sealed class GradientBuffer : IDisposable
{
    /// <summary>Horovod's default fusion threshold (HOROVOD_FUSION_THRESHOLD, 64 MiB).</summary>
    public const long DefaultFusionBytes = 64L << 20;

    private readonly Parameter[] _parameters;
    private readonly Tensor[] _flat;
    private readonly Tensor[] _buckets;
    private readonly nint[] _gradPointers;
    private readonly Scalar _inverseWorld;

    public GradientBuffer(IReadOnlyList<Parameter> parameters, long fusionBytes, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(fusionBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        FusionBytes = fusionBytes;
        _parameters = [.. parameters.Where(p => p.requires_grad)];
        var flat = new List<Tensor>();
        var buckets = new List<Tensor>();
        _gradPointers = new nint[_parameters.Length];
        foreach (IGrouping<ScalarType, (Parameter Parameter, int Index)> group in _parameters.Select((p, i) => (p, i)).GroupBy(x => x.p.dtype))
        {
            long total = group.Sum(x => x.Parameter.NumberOfElements);
            Device device = group.First().Parameter.device;
            Tensor buffer = zeros(total, group.Key, device);
            flat.Add(buffer);
            long offset = 0;
            foreach ((Parameter p, int index) in group)
            {
                if (!DenseMemory.IsDense(p))
                    throw new ArgumentException($"parameter of shape [{string.Join(", ", p.shape)}] is not dense; its gradient cannot be a view of a flat buffer.");
                // as_strided's storage offset must be given: TorchSharp's default is 0, not the tensor's own offset.
                Tensor view = buffer.as_strided(p.shape, p.stride(), offset);
                using (Tensor? old = p.grad)
                using (no_grad())
                {
                    if (old is not null) view.copy_(old);
                }
                p.grad = view;
                _gradPointers[index] = Loader.Trainer.Interop.TensorNative.THSTensor_data(view.Handle);
                view.Dispose();
                offset += p.NumberOfElements;
            }
            long perBucket = Math.Max(1, fusionBytes / buffer.ElementSize);
            for (long start = 0; start < total; start += perBucket)
                buckets.Add(buffer.narrow(0, start, Math.Min(perBucket, total - start)));
        }
        _flat = [.. flat];
        _buckets = [.. buckets];
        _inverseWorld = (1.0 / worldSize).ToScalar();
        WorldSize = worldSize;
    }

    public long FusionBytes { get; }

    public int WorldSize { get; }

    /// <summary>The flat buffers, one per parameter dtype (float32 only, in practice).</summary>
    public IReadOnlyList<Tensor> Flat => _flat;

    public int BucketCount => _buckets.Length;

    /// <summary>Sums every bucket over the ranks in place, then divides by the world size: every rank ends with the
    /// gradient of the mean loss over the global batch (the local losses are means over equal local batches).</summary>
    public void AllReduceAverage(Communicator communicator)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        if (communicator.WorldSize == 1) return;
        foreach (Tensor bucket in _buckets) communicator.AllReduceSum(bucket);
        foreach (Tensor flat in _flat) flat.mul_(_inverseWorld);
    }

    /// <summary>Whether every parameter's gradient still lives in the flat buffer (something that replaced a
    /// <c>.grad</c> would leave that gradient unreduced).</summary>
    public bool IsAttached()
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            using Tensor? grad = _parameters[i].grad;
            if (grad is null || Loader.Trainer.Interop.TensorNative.THSTensor_data(grad.Handle) != _gradPointers[i]) return false;
        }
        return true;
    }

    public void Dispose()
    {
        foreach (Tensor bucket in _buckets) bucket.Dispose();
        foreach (Tensor flat in _flat) flat.Dispose();
        _inverseWorld.Dispose();
    }
}
