using System.CommandLine;
using Loader.Tools.MakeRecords.Commands;

namespace Loader.Tools.MakeRecords;

/// <summary>make-records: folder / file list / TFRecord -> sharded records; <c>verify</c>, <c>inspect</c>, <c>index</c>, <c>demo</c>, <c>import-idx</c>.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        ErrorOutput.KeepLinesWhole();
        RootCommand root = MakeCommand.Create();
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ImportIdxCommand.Create());
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (DllNotFoundException e)
        {
            // The JPEG shim or the system libjpeg-turbo runtime is missing (--restart-interval): the message says
            // which package to install, in one line. Exit 2: not done.
            ErrorOutput.Print(e);
            return 2;
        }
        catch (Exception e)
        {
            // Anything else as System.CommandLine's default handler reports it (the whole exception, exit 1).
            Console.Error.WriteLine($"Unhandled exception: {e}");
            return 1;
        }
    }
}
