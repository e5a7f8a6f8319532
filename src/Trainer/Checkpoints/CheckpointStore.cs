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
            throw new FileNotFoundException($"{path}: not a checkpoint ({(Directory.Exists(directory) ? $"no {StateFile}" : "no such directory")})", path);
        CheckpointState? state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path), s_json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a checkpoint state ({e.Message})", e);
        }
        if (state is null) throw new InvalidDataException($"{path}: not a checkpoint state (null)");
        string? problem = CheckpointState.Problem(state);
        if (problem != null) throw new InvalidDataException($"{path}: {problem}");
        return state;
    }

    /// <summary>Loads model.bin into <paramref name="model"/>, after checking every tensor of it against the model.</summary>
    public static void LoadModel(string directory, nn.Module model)
    {
        string path = RequireFile(directory, ModelFile);
        string owner = model is Models.ResNet resnet ? $"this {resnet.Spec.Name} with {resnet.Classes} classes" : "the model";
        CheckpointFileCheck.CheckStateDict(path, model.state_dict(), owner);
        Load(path, () => model.load(path, strict: true));
    }

    /// <summary>Loads optimizer.bin into <paramref name="optimizer"/>, after checking it against the parameter groups.</summary>
    public static void LoadOptimizer(string directory, OptimizerHelper optimizer)
    {
        string path = RequireFile(directory, OptimizerFile);
        ParamGroup[] groups = [.. optimizer.ParamGroups.Cast<ParamGroup>()];
        CheckpointFileCheck.CheckSgdState(path, groups.Length, [.. groups.SelectMany(g => g.Parameters)], "this run's optimizer");
        Load(path, () => optimizer.load_state_dict(path));
    }

    private static string RequireFile(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path}: missing from the checkpoint", path);
    }

    /// <summary>What TorchSharp's own reader still finds wrong after the check, as one line naming the file.</summary>
    private static void Load(string path, Action load)
    {
        try
        {
            load();
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or System.Runtime.InteropServices.ExternalException)
        {
            string message = e.Message.Trim();
            int end = message.IndexOfAny(['\r', '\n']);
            throw new InvalidDataException($"{path}: unreadable ({(end < 0 ? message : message[..end].TrimEnd())})", e);
        }
    }
}
