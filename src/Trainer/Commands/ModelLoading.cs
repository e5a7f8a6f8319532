using Loader.Trainer.Checkpoints;
using Loader.Trainer.Models;

namespace Loader.Trainer.Commands;

/// <summary>Builds a model from a checkpoint, a PyTorch state_dict file, or a fresh initialisation.</summary>
internal static class ModelLoading
{
    public static ResNet Load(string? arch, int? classes, string? checkpoint, string? initFrom) => Load(arch, classes, checkpoint, initFrom, out _);

    public static ResNet Load(string? arch, int? classes, string? checkpoint, string? initFrom, out CheckpointState? state)
    {
        state = null;
        if (checkpoint != null && initFrom != null)
            throw new ArgumentException("give --checkpoint or --init-from, not both.");
        if (checkpoint != null)
        {
            string directory = File.Exists(Path.Combine(checkpoint, CheckpointStore.StateFile)) ? checkpoint : Path.Combine(checkpoint, "checkpoint");
            state = CheckpointStore.ReadState(directory);
            if (arch != null && !string.Equals(arch, state.Arch, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--arch {arch}, but {directory} holds a {state.Arch}.");
            if (classes != null && classes != state.Classes)
                throw new ArgumentException($"--classes {classes}, but {directory} holds {state.Classes} classes.");
            var fromCheckpoint = new ResNet(ResNetSpec.Parse(state.Arch), state.Classes);
            CheckpointStore.LoadModel(directory, fromCheckpoint);
            return fromCheckpoint;
        }
        var model = new ResNet(ResNetSpec.Parse(arch ?? "resnet50"), classes ?? 1000);
        if (initFrom != null) PyTorchWeights.Load(model, initFrom);
        return model;
    }
}
