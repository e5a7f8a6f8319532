using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Loader.Tools.Bench;

/// <summary>
/// <c>compare</c>: our loader and torchvision's DataLoader over the same images, in the same run, for each thread
/// count (our threads = its workers), training and evaluation; prints a table with the ratio, writes the figures as
/// JSON and a PNG plot of images/s against threads.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Record directory made from --images", Required = true };
        var images = new Option<string>("--images") { Description = "The same images as a JPEG folder, for torchvision", Required = true };
        var threads = new Option<string>("--threads") { Description = "Comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var batch = new Option<int>("--batch") { Description = "Batch size", DefaultValueFactory = _ => 256 };
        var epochs = new Option<int>("--epochs") { Description = "Timed epochs per measurement", DefaultValueFactory = _ => 2 };
        var modes = new Option<string>("--modes") { Description = "train,eval or one of them", DefaultValueFactory = _ => "train,eval" };
        var output = new Option<string>("--out") { Description = "Folder for compare.json and compare.png", DefaultValueFactory = _ => "loader-bench-compare" };
        var python = new Option<string>("--python") { Description = "Python with torch and torchvision", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string?>("--peer-script") { Description = "Default: tools/peers/torchvision_loader.py above the working directory" };
        var repeat = new Option<int>("--repeat") { Description = "Measure each configuration this many times (ours and theirs alternating); report medians", DefaultValueFactory = _ => 1 };
        var command = new Command("compare", "Our loader against torchvision's DataLoader, same images, same run")
        {
            data, images, threads, batch, epochs, modes, output, python, script, repeat,
        };
        command.SetAction(parse =>
        {
            string? peer = parse.GetValue(script) ?? PeerRunner.FindScript();
            if (peer is null || !File.Exists(peer))
            {
                Console.Error.WriteLine("loader-bench compare: tools/peers/torchvision_loader.py not found; pass --peer-script");
                return 2;
            }

            int[] threadCounts = [.. parse.GetValue(threads)!.Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
            string[] modeNames = parse.GetValue(modes)!.Split(',');
            return Run(parse.GetValue(data)!, parse.GetValue(images)!, threadCounts, modeNames, parse.GetValue(batch),
                       parse.GetValue(epochs), Math.Max(1, parse.GetValue(repeat)), parse.GetValue(output)!,
                       parse.GetValue(python)!, peer);
        });
        return command;
    }

    private static int Run(string data, string images, int[] threadCounts, string[] modes, int batch, int epochs, int repeat,
                           string outDir, string python, string peerScript)
    {
        // Each configuration is measured `repeat` times, ours and theirs back to back, so that both see the same
        // machine load; the medians are reported.
        var configurations = modes.SelectMany(mode => threadCounts.Select(threads => (Mode: mode, Threads: threads))).ToArray();
        var ours = configurations.ToDictionary(c => c, _ => new List<BenchResult>());
        var theirs = configurations.ToDictionary(c => c, _ => new List<double>());
        for (int round = 1; round <= repeat; round++)
        {
            foreach (var config in configurations)
            {
                bool eval = config.Mode == "eval";
                AnsiConsole.MarkupLineInterpolated($"[grey]round {round}/{repeat}, {config.Mode}, {config.Threads} thread(s)/worker(s)[/]");
                ours[config].Add(BenchRunner.Run(new BenchSettings(data, batch, config.Threads, epochs, eval)));
                theirs[config].Add(PeerRunner.Run(python, peerScript, images, config.Threads, batch, epochs, eval));
            }
        }

        var rows = new List<CompareRow>();
        foreach (var config in configurations)
        {
            double oursMedian = Median(ours[config].Select(r => r.ImagesPerSecond));
            double theirsMedian = Median(theirs[config]);
            rows.Add(new CompareRow(config.Mode, config.Threads, oursMedian, theirsMedian, Math.Round(oursMedian / theirsMedian, 2),
                                    ours[config].Max(r => r.RssMaxMegabytes), ours[config][0].SlotMegabytes,
                                    [.. ours[config].Select(r => r.ImagesPerSecond)], [.. theirs[config]]));
        }

        var table = new Table().AddColumns("mode", "threads / workers", "ours images/s (median)", "torchvision images/s (median)", "ratio",
                                           "our RSS MB (slots MB)");
        foreach (CompareRow row in rows)
        {
            table.AddRow(row.Mode, $"{row.Threads}", $"{row.OursImagesPerSecond:N1}", $"{row.TorchvisionImagesPerSecond:N1}",
                         $"[bold]{row.Ratio:N2}x[/]", $"{row.OursRssMegabytes:N0} ({row.SlotMegabytes:N0})");
        }

        AnsiConsole.Write(table);
        Directory.CreateDirectory(outDir);
        string jsonPath = Path.Combine(outDir, "compare.json");
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(rows));
        string pngPath = Path.Combine(outDir, "compare.png");
        ComparePlot.Save(rows, batch, pngPath);
        Console.WriteLine($"wrote {jsonPath} and {pngPath}");
        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

internal sealed record CompareRow(string Mode, int Threads, double OursImagesPerSecond, double TorchvisionImagesPerSecond,
                                  double Ratio, double OursRssMegabytes, double SlotMegabytes, double[] OursRuns,
                                  double[] TorchvisionRuns);
