using System.Globalization;
using Loader.Trainer.Data;
using Loader.Trainer.Evaluation;
using Loader.Trainer.Interop;
using Loader.Trainer.Models;
using Loader.Trainer.Precision;
using Loader.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Commands;

/// <summary>`trainer eval`: top-1/top-5 of a checkpoint or a PyTorch state_dict on a validation record set.</summary>
public static class EvalCommand
{
    public static int Run(string? arch, int? classes, string? checkpoint, string? initFrom, string val, int batch,
                          int? imageSize, int? evalResize, int threads, AmpMode amp, string deviceName)
    {
        TorchRuntime.EnsureLoaded();
        Device device = TorchRuntime.PickDevice(deviceName);
        using ResNet model = ModelLoading.Load(arch, classes, checkpoint, initFrom, out var state);
        int size = imageSize ?? (state is { ImageSize: > 0 } ? state.ImageSize : 224);
        model.to(device);
        using IBatchSource source = TrainCommand.CreateEvalSource(val, batch, size,
            evalResize ?? (int)Math.Round(size * 256.0 / 224), threads, device);
        if (source.ClassCount != model.Classes)
            throw new ArgumentException($"{val} holds {source.ClassCount} classes; the model predicts {model.Classes}.");
        EvalResult result = Evaluator.Evaluate(model, source, device, amp, model.Classes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"eval: {result.Samples} images top1={result.Top1:F2} top5={result.Top5:F2} loss={result.Loss:F4} images_per_sec={result.ImagesPerSecond:F1}"));
        return 0;
    }
}
