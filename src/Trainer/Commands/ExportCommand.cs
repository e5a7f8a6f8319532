using Loader.Trainer.Interop;
using Loader.Trainer.Models;
using TorchSharp.PyBridge;

namespace Loader.Trainer.Commands;

/// <summary>
/// `trainer export`: writes the model's state_dict in PyTorch's format (TorchSharp.PyBridge), so that
/// torchvision.models.resnet50().load_state_dict(torch.load(path), strict=True) accepts it.
/// </summary>
public static class ExportCommand
{
    public static int Run(string? arch, int? classes, string? checkpoint, string? initFrom, string output)
    {
        TorchRuntime.EnsureLoaded();
        using ResNet model = ModelLoading.Load(arch, classes, checkpoint, initFrom);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory != null) Directory.CreateDirectory(directory);
        model.save_py(output);
        Console.WriteLine($"exported {model.Spec.Name} ({model.Classes} classes, {model.state_dict().Count} tensors) to {output}");
        return 0;
    }
}
