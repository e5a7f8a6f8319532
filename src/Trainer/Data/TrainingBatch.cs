using static TorchSharp.torch;

namespace Loader.Trainer.Data;

/// <summary>
/// One batch on the training device: images [Count, 3, H, W] (float32; from the GPU loader under AMP, already fp16 or
/// bf16) and int64 labels [Count]. The tensors belong to
/// the source and stay valid until the next batch is requested. <see cref="PositionAfter"/> is the epoch position
/// (samples consumed) once this batch is taken: a checkpoint stores it to resume exactly after this batch.
/// </summary>
public readonly record struct TrainingBatch(Tensor Images, Tensor Labels, int Count, long PositionAfter);

/// <summary>Where batches come from: the record loader (CPU or GPU), synthetic tensors, or an in-memory data set.</summary>
public interface IBatchSource : IDisposable
{
    int ClassCount { get; }

    long SamplesPerEpoch { get; }

    int BatchesPerEpoch { get; }

    /// <summary>The batches of <paramref name="epoch"/> from sample <paramref name="position"/> on.</summary>
    IEnumerable<TrainingBatch> ReadEpoch(int epoch, long position);
}
