using static TorchSharp.torch;

namespace Loader.Trainer.Training;

/// <summary>
/// A copy of a model's buffers (BatchNorm running statistics) for fp16 training. A step the loss scaler skips leaves
/// the weights alone, but its forward pass has already folded the batch's statistics into the running ones; when the
/// loss was not finite those are NaN or infinity now, and every later evaluation and checkpoint would carry them.
/// Taken where the session syncs anyway (every log interval), restored after such a skipped step: a few steps of
/// running-statistic updates are lost, the poison is not kept.
/// </summary>
internal sealed class BufferSnapshot : IDisposable
{
    private readonly nn.Module _model;
    private Tensor[] _copies = [];

    public BufferSnapshot(nn.Module model) => _model = model;

    public void Take()
    {
        using var _ = no_grad();
        Tensor[] live = [.. _model.buffers()];
        if (_copies.Length != live.Length || !_copies.Zip(live).All(p => p.First.shape.SequenceEqual(p.Second.shape) && p.First.device_type == p.Second.device_type && p.First.device_index == p.Second.device_index))
        {
            Dispose();
            _copies = [.. live.Select(b => b.detach().clone())];
            return;
        }
        for (int i = 0; i < live.Length; i++) _copies[i].copy_(live[i]);
    }

    /// <summary>Puts the copy back if any buffer is not finite (one host sync). Returns whether it did.</summary>
    public bool RestoreIfNotFinite()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor[] live = [.. _model.buffers()];
        Tensor[] floating = [.. live.Where(b => b.is_floating_point())];
        if (floating.Length == 0 || stack(floating.Select(b => b.isfinite().all()).ToArray()).all().item<bool>()) return false;
        if (_copies.Length != live.Length) return false; // no snapshot yet: the checkpoint check will say so
        for (int i = 0; i < live.Length; i++) live[i].copy_(_copies[i]);
        return true;
    }

    public void Dispose()
    {
        foreach (Tensor copy in _copies) copy.Dispose();
        _copies = [];
    }
}
