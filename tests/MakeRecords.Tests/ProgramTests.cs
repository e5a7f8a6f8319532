using Loader.Records.Index;
using Loader.Records.Tests;

namespace Loader.Tools.MakeRecords.Tests;

/// <summary>The command line as users call it: arguments, subcommands and exit codes.</summary>
[Collection(ConsoleCollection.Name)]
public class ProgramTests
{
    [Fact]
    public void Main_DemoThenMakeThenVerifyThenInspect_ExitCodesTellTheStory()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, Program.Main(["demo", dir.Combine("demo"), "--classes", "2", "--per-class", "2", "--val-per-class", "1", "--seed", "3"]));
        File.WriteAllBytes(dir.Combine("demo", "train", "circle", "broken.jpg"), []);
        string records = dir.Combine("records");
        string report = dir.Combine("report.json");
        string[] make = ["--input", dir.Combine("demo", "train"), "--output", records, "--shards", "2", "--seed", "9", "--threads", "2", "--report", report];

        Assert.Equal(0, Program.Main(make));                 // a skipped file is not a failure...
        Assert.Equal(1, Program.Main([.. make, "--strict"])); // ...unless --strict.
        Assert.True(File.Exists(report));
        Assert.Equal(0, Program.Main(["verify", records]));
        Assert.Equal(0, Program.Main(["inspect", records, "--record", "1"]));

        string shard = Path.Combine(records, ShardNaming.ShardFileName("train", 0, 2));
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(shard, bytes);
        Assert.Equal(1, Program.Main(["verify", records]));
        Assert.Equal(1, Program.Main(["verify", records, "--no-sha256"])); // the record's CRC still fails
        Assert.Equal(2, Program.Main(["--input", dir.Combine("missing"), "--output", dir.Combine("x")]));
    }

    [Fact]
    public void Main_VerifyExitCodes_MissingShardIs1_AllowPartialIs0_BadOptionsAre2()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, Program.Main(["demo", dir.Combine("demo"), "--classes", "2", "--per-class", "3", "--val-per-class", "0", "--seed", "1"]));
        string records = dir.Combine("records");
        Assert.Equal(0, Program.Main(["--input", dir.Combine("demo", "train"), "--output", records, "--shards", "3"]));
        File.Delete(Path.Combine(records, ShardNaming.ShardFileName("train", 1, 3)));

        Assert.Equal(1, Program.Main(["verify", records]));
        Assert.Equal(0, Program.Main(["verify", records, "--allow-partial"]));
        Assert.Equal(2, Program.Main(["verify", dir.Combine("nowhere")]));
        Assert.Equal(2, Program.Main(["verify", records, "--threads", "0"]));
        Assert.Equal(2, Program.Main(["--input", dir.Combine("demo", "train"), "--output", dir.Combine("other"), "--threads", "0"]));
        Assert.Equal(2, Program.Main(["--input", dir.Combine("demo", "train"), "--output", dir.Combine("demo", "train", "out")]));
    }

    /// <summary>An error is one line on standard error, however long (Spectre wrapped it at 80 columns before).</summary>
    [Fact]
    public void Main_Error_IsOneLineOnStandardError_NotWrapped()
    {
        using var dir = new TempDirectory();
        string missing = dir.Combine(new string('m', 150), "train");
        TextWriter original = Console.Error;
        using var error = new StringWriter();
        Console.SetError(error);
        int code;
        try
        {
            code = Program.Main(["--input", missing, "--output", dir.Combine("out")]);
            Assert.Equal(2, Program.Main(["verify", missing]));
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Equal(2, code);
        string[] lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, line => Assert.StartsWith("make-records: error: ", line, StringComparison.Ordinal));
        Assert.All(lines, line => Assert.Contains(missing, line, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("verify", new[] { "--allow-partial", "--max-pixels", "--no-sha256", "--threads" })]
    [InlineData("index", new[] { "--name", "--max-pixels" })]
    [InlineData("inspect", new[] { "--record" })]
    public void Main_Help_ListsExitCodesAndEachOptionWithItsDefault(string command, string[] options)
    {
        TextWriter original = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, Program.Main([command, "--help"]));
        }
        finally
        {
            Console.SetOut(original);
        }

        string help = output.ToString();
        Assert.Contains("Exit codes: 0 ", help, StringComparison.Ordinal);
        foreach (string option in options)
        {
            string line = Assert.Single(help.Split('\n'), l => l.TrimStart().StartsWith(option, StringComparison.Ordinal) || l.Contains($", {option}", StringComparison.Ordinal));
            Assert.Contains("default", line, StringComparison.Ordinal);
        }
    }
}

/// <summary>The main command's help: what every option does, and its default.</summary>
public class MakeCommandHelpTests
{
    [Fact]
    public void EveryOption_SaysWhatItDoes_AndItsDefault_AndTheExitCodesAreListed()
    {
        System.CommandLine.RootCommand command = Commands.MakeCommand.Create();
        Assert.Contains("Exit codes: 0 done; 1 done, but --strict", command.Description, StringComparison.Ordinal);
        var options = command.Options.Where(o => o is not (System.CommandLine.Help.HelpOption or System.CommandLine.VersionOption)).ToList();
        Assert.True(options.Count >= 20);
        foreach (System.CommandLine.Option option in options)
        {
            Assert.False(string.IsNullOrWhiteSpace(option.Description), option.Name);
            // A default is shown by the help builder ([default: X]), said in words, or the option is required.
            Assert.True(option.HasDefaultValue || option.Required || option.Description!.Contains("Default:", StringComparison.Ordinal)
                        || option.Description.Contains("default", StringComparison.Ordinal), $"{option.Name}: no default said");
        }
    }
}

/// <summary>Tests that write to the console run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
