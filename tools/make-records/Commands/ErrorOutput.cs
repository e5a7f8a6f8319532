using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary>Prints an error for a person: the message, and the whole exception when MAKE_RECORDS_TRACE=1.</summary>
internal static class ErrorOutput
{
    public static void Print(Exception e)
    {
        AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        if (Environment.GetEnvironmentVariable("MAKE_RECORDS_TRACE") == "1")
        {
            Console.Error.WriteLine(e.ToString());
        }
    }
}
