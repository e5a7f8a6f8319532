using System.CommandLine;
using Loader.Tools.MakeRecords.Commands;

namespace Loader.Tools.MakeRecords;

/// <summary>make-records: folder / file list / TFRecord -> sharded records; <c>verify</c>, <c>inspect</c>, <c>index</c>, <c>demo</c>, <c>import-idx</c>.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        RootCommand root = MakeCommand.Create();
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ImportIdxCommand.Create());
        return root.Parse(args).Invoke();
    }
}
