using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary>
/// Prints an error for a person: one line on standard error, <c>make-records: error: ...</c> (the style of every
/// tool here), never wrapped at the console's width; the whole exception too when MAKE_RECORDS_TRACE=1.
/// </summary>
internal static class ErrorOutput
{
    public static void Print(Exception e)
    {
        Line(e.Message);
        if (Environment.GetEnvironmentVariable("MAKE_RECORDS_TRACE") == "1")
        {
            Console.Error.WriteLine(e.ToString());
        }
    }

    public static void Line(string message) => Console.Error.WriteLine($"make-records: error: {message}");

    /// <summary>
    /// Results (a verify problem, a skipped file) are one line each too: when the output goes to a file or a pipe,
    /// Spectre would otherwise wrap every line at 80 columns, so lines are as long as they need to be.
    /// </summary>
    public static void KeepLinesWhole()
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 4096;
    }
}
