using Loader.Trainer.Data;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Training;

/// <summary>
/// A real batch source whose chosen batches carry infinite pixels (what a corrupt float input or an overflowing
/// preprocessing step delivers): their loss is NaN. The poisoned images are a copy; the inner source is untouched.
/// </summary>
internal sealed class PoisonedBatchSource(IBatchSource inner, Func<int, int, bool> poisoned) : IBatchSource
{
    public int ClassCount => inner.ClassCount;

    public long SamplesPerEpoch => inner.SamplesPerEpoch;

    public int BatchesPerEpoch => inner.BatchesPerEpoch;

    /// <summary><c>poisoned(epoch, batchInEpoch)</c> (both 0-based) says which batches get infinite pixels.</summary>
    public IEnumerable<TrainingBatch> ReadEpoch(int epoch, long position)
    {
        int index = (int)(position * BatchesPerEpoch / SamplesPerEpoch);
        foreach (TrainingBatch batch in inner.ReadEpoch(epoch, position))
        {
            if (poisoned(epoch, index++))
            {
                using Tensor images = full_like(batch.Images, float.PositiveInfinity);
                yield return batch with { Images = images };
            }
            else
            {
                yield return batch;
            }
        }
    }

    public void Dispose() => inner.Dispose();
}
