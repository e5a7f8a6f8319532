namespace Loader.Trainer.Training;

/// <summary>
/// Training diverged: a loss that counts was not finite (without fp16 loss scaling), the fp16 loss stayed non-finite
/// through the scaler's skips, or the weights to be checkpointed hold NaN or infinity. Nothing was written over the
/// last good checkpoint.
/// </summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>A training step failed (libtorch's error, e.g. a label out of range); the message says which step.</summary>
public sealed class TrainingStepException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>libtorch's message without its C++ backtrace (the lines after the first), with the step it broke.</summary>
    public static TrainingStepException FromLibTorch(Exception e, int epoch, long step)
    {
        string message = e.Message.Trim();
        int end = message.IndexOfAny(['\r', '\n']);
        return new($"epoch {epoch + 1}, step {step}: libtorch: {(end < 0 ? message : message[..end].TrimEnd())}", e);
    }
}
