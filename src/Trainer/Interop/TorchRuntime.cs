using System.Runtime.InteropServices;
using TorchSharp;

namespace Loader.Trainer.Interop;

/// <summary>
/// Loads libtorch once and turns the many ways it can fail into one clear message. TorchSharp reports a missing or
/// unloadable native library as a TypeInitializationException deep inside its static constructor.
/// </summary>
internal static class TorchRuntime
{
    private static readonly Lazy<string?> s_loadError = new(TryLoad);

    /// <summary>Throws <see cref="TorchUnavailableException"/> when libtorch cannot be loaded.</summary>
    public static void EnsureLoaded()
    {
        if (s_loadError.Value is { } error) throw new TorchUnavailableException(error);
    }

    /// <summary>The device to train on: CUDA when libtorch sees one (and the caller allows it), else CPU.</summary>
    public static torch.Device PickDevice(string requested)
    {
        EnsureLoaded();
        return requested switch
        {
            "cpu" => torch.CPU,
            "cuda" => torch.cuda.is_available() ? torch.CUDA : throw new TorchUnavailableException(
                "--device cuda was asked for, but libtorch sees no CUDA device (this build ships the CPU libtorch)."),
            _ => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        };
    }

    private static string? TryLoad()
    {
        try
        {
            using var probe = torch.ones(1);
            return probe.item<float>() == 1f ? null : "libtorch loaded but torch.ones(1) did not return 1.";
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException
                                       or EntryPointNotFoundException or BadImageFormatException)
        {
            Exception root = e;
            while (root.InnerException != null) root = root.InnerException;
            string firstLine = root.Message.Split('\n')[0].Trim();
            return "libtorch could not be loaded: " + firstLine + Environment.NewLine +
                   "  The build marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak on systems whose " +
                   "libstdc++ lacks it (build/TorchSharpNativeFix.targets); rebuild with 'dotnet build' rather than " +
                   "copying binaries by hand. 'LD_DEBUG=libs' shows which library the loader refused." +
                   (RuntimeInformation.ProcessArchitecture != Architecture.X64
                       ? $" Note: the TorchSharp-cpu package ships x64 binaries; this machine is {RuntimeInformation.ProcessArchitecture}."
                       : "");
        }
    }
}

/// <summary>libtorch cannot be loaded or lacks a requested feature; the message says why and what to do.</summary>
public sealed class TorchUnavailableException : Exception
{
    public TorchUnavailableException() { }
    public TorchUnavailableException(string message) : base(message) { }
    public TorchUnavailableException(string message, Exception inner) : base(message, inner) { }
}
