using System.Diagnostics;
using Loader.Trainer.Models;
using TorchSharp.PyBridge;

namespace Loader.Trainer.Tests.Interop;

/// <summary>
/// Weights move to and from PyTorch: checked against Debian's python3-torch and python3-torchvision. Skips (saying
/// why) when /usr/bin/python3 cannot import them.
/// </summary>
public sealed class PyTorchInteropTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-pytorch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int ExitCode, string Output) RunPython(string script)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    private static void SkipWithoutTorch()
    {
        if (!File.Exists(Python)) Assert.Skip($"{Python} not found (apt-get install python3-torch python3-torchvision)");
    }

    [Fact]
    public void TorchvisionStateDict_ImportsAndExportsBackUnchanged_AndExportsLoadStrictly()
    {
        SkipWithoutTorch();
        string original = Path.Combine(_directory, "torchvision.pt");
        string exported = Path.Combine(_directory, "exported.pt");
        (int code, string output) = RunPython($$"""
            import torch, torchvision
            torch.manual_seed(0)
            m = torchvision.models.resnet50()
            with torch.no_grad():
                for name, b in m.named_buffers():
                    if b.dtype.is_floating_point: b.uniform_(0.5, 1.5)
                    else: b.fill_(1234)
            torch.save(m.state_dict(), {{PyString(original)}})
            """);
        if (code != 0 && output.Contains("No module named", StringComparison.Ordinal))
            Assert.Skip($"{Python} cannot import torch and torchvision (apt-get install python3-torch python3-torchvision): {output.Trim().Split('\n')[^1]}");
        Assert.True(code == 0, output);

        using (var model = new ResNet(ResNetSpec.Parse("resnet50"), 1000))
        {
            PyTorchWeights.Load(model, original);
            model.save_py(exported);
        }
        // And a fresh export of another member, with another class count, loads strictly too.
        string fresh = Path.Combine(_directory, "resnet18.pt");
        using (var small = new ResNet(ResNetSpec.Parse("resnet18"), 37))
            small.save_py(fresh);

        (code, output) = RunPython($$"""
            import torch, torchvision
            a = torch.load({{PyString(original)}})
            b = torch.load({{PyString(exported)}})
            assert sorted(a.keys()) == sorted(b.keys()), "keys differ"
            for k in a:
                assert a[k].dtype == b[k].dtype, (k, a[k].dtype, b[k].dtype)
                assert torch.equal(a[k], b[k]), k
            m = torchvision.models.resnet50()
            print(m.load_state_dict(b, strict=True))
            print(sum(p.numel() for p in m.parameters()))
            r18 = torchvision.models.resnet18(num_classes=37)
            print("resnet18:", r18.load_state_dict(torch.load({{PyString(fresh)}}), strict=True))
            """);
        Assert.True(code == 0, output);
        Assert.Contains("All keys matched successfully", output, StringComparison.Ordinal);
        Assert.Contains("25557032", output, StringComparison.Ordinal);
        Assert.Contains("resnet18: <All keys matched successfully>", output, StringComparison.Ordinal);
    }

    private static string PyString(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}
