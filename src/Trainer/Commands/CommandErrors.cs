using System.Runtime.InteropServices;
using Loader.Trainer.Interop;
using Loader.Trainer.Training;

namespace Loader.Trainer.Commands;

/// <summary>The trainer's exit codes (the README lists them).</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The run failed: bad data, an unreadable checkpoint, an I/O error, a libtorch error, a bug.</summary>
    public const int Failed = 1;

    /// <summary>A usage error: an option's value, a combination of options, a resume that would change the run.</summary>
    public const int Usage = 2;

    /// <summary>Training diverged (the loss stayed non-finite); the last good checkpoint was left as it was.</summary>
    public const int Diverged = 3;

    /// <summary>Stopped by Ctrl+C after saving a checkpoint (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>The exit codes in one sentence, for every command's --help.</summary>
    public const string Summary = "Exit codes: 0 done, 1 failed, 2 usage error, 3 training diverged, 130 interrupted (Ctrl+C, checkpoint saved).";
}

/// <summary>
/// One error style for every trainer command: <c>trainer: error: &lt;file or option&gt;: &lt;problem&gt;</c>, one line, on
/// stderr, with a documented exit code; the stack trace (and libtorch's C++ backtrace) only with <c>--verbose</c>.
/// </summary>
public static class CommandErrors
{
    public static int Run(Func<int> action, bool verbose) => Run(action, verbose, Console.Error);

    public static int Run(Func<int> action, bool verbose, TextWriter error)
    {
        try
        {
            return action();
        }
        catch (Exception e)
        {
            // In a distributed job the line names the rank, and the job ends on every rank (MPI_Abort): no rank
            // is left waiting forever in a collective for the one that failed.
            string rank = Distributed.DistributedJob.Current is { WorldSize: > 1 } job ? $"rank {job.Rank}: " : "";
            error.WriteLine($"trainer: error: {rank}{Describe(e)}");
            if (verbose) error.WriteLine(e.ToString());
            int code = ExitCodeOf(e);
            Distributed.DistributedJob.AbortIfDistributed(code);
            return code;
        }
    }

    public static int ExitCodeOf(Exception e) => e switch
    {
        TrainingDivergedException => ExitCodes.Diverged,
        ArgumentException => ExitCodes.Usage,
        _ => ExitCodes.Failed,
    };

    /// <summary>The one-line description of <paramref name="e"/>: our own messages as they are (they name the file or
    /// option); libtorch's with only the first line of its C++ message; anything unexpected with its type.</summary>
    public static string Describe(Exception e)
    {
        string message = FirstLine(e.Message);
        return e switch
        {
            TrainingStepException or TrainingDivergedException or ArgumentException or IOException or InvalidDataException
                or UnauthorizedAccessException or NotSupportedException or TorchUnavailableException
                or Distributed.DistributedException => message,
            // A native library that is not installed: the loaders' messages name the library and the package.
            DllNotFoundException => message,
            ExternalException => $"libtorch: {message}",
            OutOfMemoryException => $"out of memory: {message}",
            _ => $"internal error ({e.GetType().Name}): {message} (--verbose shows the stack trace)",
        };
    }

    /// <summary>libtorch's messages carry "Exception raised from ..." and a frame list after the first line.</summary>
    public static string FirstLine(string message)
    {
        string trimmed = message.Trim();
        int end = trimmed.IndexOfAny(['\r', '\n']);
        return end < 0 ? trimmed : trimmed[..end].TrimEnd();
    }
}
