using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Loader.Trainer.Models;

/// <summary>Loads a PyTorch state_dict file (torch.save of model.state_dict()) into a ResNet, strictly.</summary>
public static class PyTorchWeights
{
    /// <summary>
    /// Every key and every shape must match. PyBridge's strict load checks the names only, and copies an fc of another
    /// class count partially and silently, so the file's shapes are compared first, naming the first that differs.
    /// </summary>
    public static void Load(ResNet model, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        Dictionary<string, Tensor> own = model.state_dict();
        Hashtable file;
        try
        {
            file = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // PyBridge's messages (a bad zip, an unknown pickle opcode, ...) do not name the file.
            string message = e.Message.Trim();
            int end = message.IndexOfAny(['\r', '\n']);
            throw new InvalidDataException($"{path}: not a PyTorch state_dict ({(end < 0 ? message : message[..end].TrimEnd())})", e);
        }
        try
        {
            // The model's own order (a Hashtable's order changes from run to run), so the error names the same key every time.
            foreach ((string key, Tensor mine) in own)
            {
                if (!file.ContainsKey(key))
                    throw new InvalidDataException($"{path}: no {key} (not a {model.Spec.Name} state_dict?).");
                if (file[key] is Tensor theirs && !theirs.shape.SequenceEqual(mine.shape))
                    throw new InvalidDataException(
                        $"{path}: {key} has shape [{string.Join(", ", theirs.shape)}], but a {model.Spec.Name} with {model.Classes} classes needs [{string.Join(", ", mine.shape)}] (wrong --arch or --classes?).");
            }
            string? unknown = file.Keys.Cast<string>().Order(StringComparer.Ordinal).FirstOrDefault(k => !own.ContainsKey(k));
            if (unknown != null)
                throw new InvalidDataException($"{path}: {unknown} is not a parameter or buffer of {model.Spec.Name} (wrong --arch?).");
        }
        finally
        {
            foreach (object? value in file.Values) (value as IDisposable)?.Dispose();
        }
        model.load_py(path, strict: true);
    }
}
