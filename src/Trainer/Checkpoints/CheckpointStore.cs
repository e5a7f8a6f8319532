using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Checkpoints;

/// <summary>
/// A checkpoint is a directory: model.bin, optimizer.bin, state.json. It is written beside its final place and renamed
/// into it, so a crash mid-write leaves the previous checkpoint intact.
/// </summary>
public static class CheckpointStore
{
    public const string ModelFile = "model.bin";
    public const string OptimizerFile = "optimizer.bin";
    public const string StateFile = "state.json";

    // NaN and infinity (a diverged epoch's loss, a fresh run's missing figures) are written as "NaN", "Infinity", and
    // read back: a checkpoint must always be writable.
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Save(string directory, nn.Module model, OptimizerHelper? optimizer, CheckpointState state)
    {
        string full = Path.GetFullPath(directory);
        string parent = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(parent);
        string staging = full + ".writing";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        model.save(Path.Combine(staging, ModelFile));
        optimizer?.save_state_dict(Path.Combine(staging, OptimizerFile));
        File.WriteAllText(Path.Combine(staging, StateFile), JsonSerializer.Serialize(state, s_json));
        string previous = full + ".previous";
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
        if (Directory.Exists(full)) Directory.Move(full, previous);
        Directory.Move(staging, full);
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }

    public static CheckpointState ReadState(string directory)
    {
        string path = Path.Combine(directory, StateFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{directory}: not a checkpoint (no {StateFile}).", path);
        try
        {
            CheckpointState state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path), s_json)
                ?? throw new InvalidDataException($"{path}: empty checkpoint state.");
            if (state.Format != CheckpointState.CurrentFormat)
                throw new InvalidDataException($"{path}: checkpoint format {state.Format}, this trainer reads {CheckpointState.CurrentFormat}.");
            return state;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable checkpoint state: {e.Message}", e);
        }
    }

    public static void LoadModel(string directory, nn.Module model)
    {
        string path = Path.Combine(directory, ModelFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: checkpoint without {ModelFile}.", path);
        model.load(path, strict: true);
    }

    public static void LoadOptimizer(string directory, OptimizerHelper optimizer)
    {
        string path = Path.Combine(directory, OptimizerFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory}: checkpoint without {OptimizerFile}.", path);
        optimizer.load_state_dict(path);
    }
}
