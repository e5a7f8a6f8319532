using Loader.Trainer.Interop;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed;

/// <summary>
/// Checks that every rank still holds the same model: each rank hashes the bytes of every parameter and buffer (in
/// state_dict order), the hashes are all-gathered, and any rank whose hashes differ from rank 0's stops the job with
/// a message naming that rank and its first differing tensor. Ranks can diverge silently otherwise (a rank that
/// skipped a step alone, non-deterministic kernels, a bad GPU); neither Horovod nor DDP checks.
/// </summary>
public static class ReplicaCheck
{
    /// <summary>Returns normally when all ranks agree; throws <see cref="DistributedException"/> on every rank when not.</summary>
    public static void Run(Communicator communicator, IReadOnlyList<(string Name, Tensor Tensor)> tensors, string when)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(tensors);
        if (communicator.WorldSize == 1) return;
        long[] mine = [.. tensors.Select(t => Hash(t.Tensor))];
        long[] all = new long[mine.Length * communicator.WorldSize];
        communicator.AllGather(mine, all);
        for (int rank = 1; rank < communicator.WorldSize; rank++)
        {
            int[] differing = [.. Enumerable.Range(0, mine.Length).Where(i => all[rank * mine.Length + i] != all[i])];
            if (differing.Length == 0) continue;
            int[] ranks = [.. Enumerable.Range(1, communicator.WorldSize - 1)
                .Where(r => Enumerable.Range(0, mine.Length).Any(i => all[r * mine.Length + i] != all[i]))];
            throw new DistributedException(
                $"replica check {when}: rank {rank}'s {tensors[differing[0]].Name} differs from rank 0's " +
                $"({differing.Length} of {mine.Length} tensors differ; ranks that diverged: {string.Join(", ", ranks)}).");
        }
    }

    /// <summary>The parameters and buffers of <paramref name="model"/> by state_dict name.</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> StateOf(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return [.. model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), .. model.named_buffers()];
    }

    /// <summary>A 64-bit hash of a tensor's values in logical (row-major) order, wherever and however it is stored.</summary>
    public static long Hash(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.device_type == DeviceType.CPU && tensor.is_contiguous()) return HashMemory(tensor);
        using Tensor host = empty(tensor.shape, tensor.dtype, CPU);
        using (no_grad()) host.copy_(tensor);
        return HashMemory(host);
    }

    private static unsafe long HashMemory(Tensor contiguous)
    {
        long bytes = DenseMemory.Bytes(contiguous);
        byte* data = (byte*)TensorNative.THSTensor_data(contiguous.Handle);
        // FNV-style over 8-byte words (multiplying by an odd constant is a bijection, so any changed word changes the
        // hash), then over the tail bytes; the length goes in last so that zero tensors of different sizes differ.
        ulong hash = 14695981039346656037UL;
        long words = bytes / 8;
        ReadOnlySpan<ulong> span;
        for (long done = 0; done < words; done += span.Length)
        {
            span = new ReadOnlySpan<ulong>(data + done * 8, (int)Math.Min(words - done, 1 << 28));
            foreach (ulong word in span) hash = (hash ^ word) * 1099511628211UL;
        }
        for (long i = words * 8; i < bytes; i++) hash = (hash ^ data[i]) * 1099511628211UL;
        hash = (hash ^ (ulong)bytes) * 1099511628211UL;
        return unchecked((long)hash);
    }
}
