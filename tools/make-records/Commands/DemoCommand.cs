using System.CommandLine;
using System.Diagnostics;
using Loader.Tools.MakeRecords.Demo;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary><c>demo OUT</c>: writes the built-in demo data set (ImageFolder tree with train/ and val/).</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Argument<string>("OUT") { Description = "Folder to write train/ and val/ into" };
        var classes = new Option<int>("--classes") { Description = $"Number of classes (2..{DemoDataset.MaxClasses})", DefaultValueFactory = _ => 10 };
        var perClass = new Option<int>("--per-class") { Description = "Training images per class", DefaultValueFactory = _ => 300 };
        var valPerClass = new Option<int>("--val-per-class") { Description = "Validation images per class", DefaultValueFactory = _ => 50 };
        var seed = new Option<ulong>("--seed") { Description = "Seed: the same seed draws the same images", DefaultValueFactory = _ => 0UL };
        var threads = new Option<int>("--threads", "-j") { Description = "Worker threads (does not change the output)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("demo", "Generate the built-in demo data set: procedurally drawn shapes on textured backgrounds, as JPEGs. Exit codes: 0 done, 2 not done")
        {
            output, classes, perClass, valPerClass, seed, threads,
        };
        command.SetAction(parse =>
        {
            var options = new DemoOptions(parse.GetValue(output)!, parse.GetValue(classes), Math.Max(0, parse.GetValue(perClass)),
                                          Math.Max(0, parse.GetValue(valPerClass)), parse.GetValue(seed), Math.Max(1, parse.GetValue(threads)));
            try
            {
                long done = 0;
                long total = (long)options.Classes * (options.TrainPerClass + options.ValPerClass);
                var clock = Stopwatch.StartNew();
                int images = ConsoleProgress.Run("demo images", () => total, () => Interlocked.Read(ref done),
                                                 _ => DemoDataset.Generate(options, () => Interlocked.Increment(ref done)));
                AnsiConsole.MarkupLineInterpolated(
                    $"wrote {images} images ({options.Classes} classes; train {options.TrainPerClass}/class, val {options.ValPerClass}/class) to {options.Output} in {clock.Elapsed.TotalSeconds:N1} s");
                return 0;
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
            {
                ErrorOutput.Print(e);
                return 2;
            }
        });
        return command;
    }
}
