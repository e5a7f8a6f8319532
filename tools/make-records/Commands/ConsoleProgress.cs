using System.Globalization;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary>Runs work on a worker thread while showing a progress bar (or, when the console is not interactive,
/// a line every few seconds), and rethrows the work's exception.</summary>
internal static class ConsoleProgress
{
    public static T Run<T>(string label, Func<long> total, Func<long> done, Func<CancellationToken, T> work)
    {
        using var cancel = new CancellationTokenSource();
        Task<T> task = Task.Run(() => work(cancel.Token));
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                         new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    ProgressTask bar = context.AddTask(label, maxValue: 1);
                    while (!WaitQuietly(task, 100))
                    {
                        Update(bar, total(), done());
                    }

                    Update(bar, total(), done());
                });
        }
        else
        {
            DateTime started = DateTime.UtcNow, next = started.AddSeconds(5);
            while (!WaitQuietly(task, 200))
            {
                if (DateTime.UtcNow >= next)
                {
                    // Before the work knows its total (shards not listed yet) it says it is still going rather than "0/0".
                    long all = total();
                    Console.WriteLine(all > 0
                        ? string.Create(CultureInfo.InvariantCulture, $"{label}: {done()}/{all}")
                        : string.Create(CultureInfo.InvariantCulture, $"{label}: working ({(DateTime.UtcNow - started).TotalSeconds:F0} s)"));
                    next = DateTime.UtcNow.AddSeconds(5);
                }
            }
        }

        return task.GetAwaiter().GetResult();
    }

    /// <summary>Waits up to <paramref name="milliseconds"/>; unlike Task.Wait it does not throw (the caller rethrows
    /// the work's own exception, not an AggregateException).</summary>
    private static bool WaitQuietly(Task task, int milliseconds) => ((IAsyncResult)task).AsyncWaitHandle.WaitOne(milliseconds) || task.IsCompleted;

    private static void Update(ProgressTask bar, long total, long done)
    {
        if (total > 0)
        {
            bar.MaxValue = total;
            bar.Value = Math.Min(done, total);
        }
    }
}
