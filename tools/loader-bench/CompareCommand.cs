using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Loader.Tools.Bench;

/// <summary>
/// <c>compare</c>: our loader and the peers (torchvision + PIL, torchvision.io.decode_jpeg with tensor transforms,
/// OpenCV with INTER_AREA and with INTER_LINEAR; each a torch DataLoader, tools/peers/torchvision_loader.py) over the same images, in the same run, for
/// each thread count (our threads = their workers), training and evaluation; prints a table with our speed against
/// the fastest peer, writes every figure as JSON and a PNG plot of images/s against threads.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Record directory made from --images (make-records output)", Required = true };
        var images = new Option<string>("--images") { Description = "The same images as a JPEG folder, read by the peers", Required = true };
        var threads = new Option<string>("--threads") { Description = "Comma-separated thread counts: our decode threads = the peers' DataLoader workers", DefaultValueFactory = _ => "1,2" };
        var batch = new Option<int>("--batch") { Description = "Batch size, ours and the peers'", DefaultValueFactory = _ => 256 };
        var epochs = new Option<int>("--epochs") { Description = "Timed epochs per measurement (after the untimed warm-up epochs)", DefaultValueFactory = _ => 2 };
        var warmup = new Option<int>("--warmup-epochs")
        {
            Description = "Untimed epochs first, ours and the peers' alike. On the 500-image sample, .NET's tiered JIT is still " +
                          "compiling during the first three epochs of a process; 4 measures both loaders in their steady state",
            DefaultValueFactory = _ => 1,
        };
        var modes = new Option<string>("--modes") { Description = "train (random-resized crop 224 + flip), eval (resize 256 + center crop 224), or both", DefaultValueFactory = _ => "train,eval" };
        var peers = new Option<string>("--peers") { Description = "Comma-separated peer pipelines to measure", DefaultValueFactory = _ => string.Join(',', PeerPipelines.All) };
        var output = new Option<string>("--out") { Description = "Folder for compare.json and compare.png", DefaultValueFactory = _ => "loader-bench-compare" };
        var python = new Option<string>("--python") { Description = "Python with torch, torchvision, PIL, numpy and cv2", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string?>("--peer-script") { Description = "The peers' script (default: tools/peers/torchvision_loader.py, looked for from the working directory upwards)" };
        var repeat = new Option<int>("--repeat") { Description = "Measure each configuration this many times (ours, then each peer, back to back); report medians", DefaultValueFactory = _ => 1 };
        var command = new Command("compare", "Our loader against PyTorch DataLoader peers (torchvision + PIL, torchvision.io, OpenCV with INTER_AREA and with INTER_LINEAR), same images, same run. " +
                                             ExitCodes.Text)
        {
            data, images, threads, batch, epochs, warmup, modes, peers, output, python, script, repeat,
        };
        command.SetAction(parse =>
        {
            string? peerScript = parse.GetValue(script) ?? PeerRunner.FindScript();
            if (peerScript is null || !File.Exists(peerScript))
            {
                return Usage($"peer script not found: {peerScript ?? "tools/peers/torchvision_loader.py"}; pass --peer-script");
            }

            if (!TryParseThreads(parse.GetValue(threads)!, out int[] threadCounts))
            {
                return Usage($"--threads: '{parse.GetValue(threads)}' is not a comma-separated list of positive integers");
            }

            string[] modeNames = SplitList(parse.GetValue(modes)!);
            if (modeNames.Length == 0 || modeNames.Any(m => m is not ("train" or "eval")))
            {
                return Usage($"--modes: '{parse.GetValue(modes)}' is not train, eval or train,eval");
            }

            string[] peerNames = SplitList(parse.GetValue(peers)!);
            if (peerNames.Length == 0 || peerNames.Any(p => !PeerPipelines.All.Contains(p)))
            {
                return Usage($"--peers: '{parse.GetValue(peers)}': each must be one of {string.Join(", ", PeerPipelines.All)}");
            }

            if (parse.GetValue(batch) <= 0 || parse.GetValue(epochs) <= 0 || parse.GetValue(repeat) <= 0)
            {
                return Usage("--batch, --epochs and --repeat must be positive");
            }

            if (parse.GetValue(warmup) < 0)
            {
                return Usage("--warmup-epochs must be 0 or more");
            }

            if (!Directory.Exists(parse.GetValue(data)))
            {
                return Usage($"record directory not found: {parse.GetValue(data)}");
            }

            if (!Directory.Exists(parse.GetValue(images)))
            {
                return Usage($"image folder not found: {parse.GetValue(images)}");
            }

            return Run(parse.GetValue(data)!, parse.GetValue(images)!, threadCounts, modeNames, peerNames, parse.GetValue(batch),
                       parse.GetValue(epochs), parse.GetValue(warmup), parse.GetValue(repeat), parse.GetValue(output)!, parse.GetValue(python)!,
                       peerScript);
        });
        return command;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"loader-bench: compare: {message}");
        return ExitCodes.Usage;
    }

    private static string[] SplitList(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();

    private static bool TryParseThreads(string value, out int[] threads)
    {
        string[] parts = SplitList(value);
        threads = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out threads[i]) || threads[i] <= 0)
            {
                return false;
            }
        }

        return parts.Length > 0;
    }

    private static int Run(string data, string images, int[] threadCounts, string[] modes, string[] peers, int batch, int epochs,
                           int warmupEpochs, int repeat, string outDir, string python, string peerScript)
    {
        // Each configuration is measured `repeat` times, ours and then each peer back to back, so that all see the
        // same machine load; the medians are reported.
        var configurations = modes.SelectMany(mode => threadCounts.Select(threads => (Mode: mode, Threads: threads))).ToArray();
        var ours = configurations.ToDictionary(c => c, _ => new List<BenchResult>());
        var theirs = configurations.ToDictionary(c => c, _ => peers.ToDictionary(p => p, _ => new List<double>()));
        for (int round = 1; round <= repeat; round++)
        {
            foreach (var config in configurations)
            {
                bool eval = config.Mode == "eval";
                AnsiConsole.MarkupLineInterpolated($"[grey]round {round}/{repeat}, {config.Mode}, {config.Threads} thread(s)/worker(s)[/]");
                ours[config].Add(BenchRunner.Run(new BenchSettings(data, batch, config.Threads, epochs, eval, WarmupEpochs: warmupEpochs)));
                foreach (string peer in peers)
                {
                    theirs[config][peer].Add(PeerRunner.Run(python, peerScript, peer, images, config.Threads, batch, epochs, eval, warmupEpochs)
                        .ImagesPerSecond);
                }
            }
        }

        CompareRow[] rows =
        [
            .. configurations.Select(config => CompareRow.Create(
                config.Mode, config.Threads, [.. ours[config].Select(r => r.ImagesPerSecond)],
                [.. peers.Select(p => (p, (IReadOnlyList<double>)theirs[config][p]))],
                ours[config].Max(r => r.RssMaxMegabytes), ours[config][0].SlotMegabytes) with
            {
                WarmupEpochs = warmupEpochs,
                TimedEpochs = epochs,
            }),
        ];

        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 160)
        {
            AnsiConsole.Profile.Width = 160; // a log file has no width: do not wrap the table's cells at 80 columns
        }

        AnsiConsole.Write(BuildTable(rows, peers));
        Directory.CreateDirectory(outDir);
        string jsonPath = Path.Combine(outDir, "compare.json");
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(rows));
        string pngPath = Path.Combine(outDir, "compare.png");
        ComparePlot.Save(rows, batch, pngPath);
        Console.WriteLine($"wrote {jsonPath} and {pngPath}");
        return ExitCodes.Success;
    }

    private static Table BuildTable(IReadOnlyList<CompareRow> rows, IReadOnlyList<string> peers)
    {
        var table = new Table().AddColumns("mode", "threads / workers", "ours");
        foreach (string peer in peers)
        {
            table.AddColumn(PeerPipelines.Label(peer));
        }

        table.AddColumns("fastest peer", "ours / fastest", "our RSS MB (slots MB)");
        foreach (CompareRow row in rows)
        {
            var cells = new List<string> { row.Mode, $"{row.Threads}", $"{row.OursImagesPerSecond:N1}" };
            cells.AddRange(row.Peers.Select(p => $"{p.ImagesPerSecond:N1}"));
            cells.Add(PeerPipelines.Label(row.FastestPeer));
            cells.Add($"[bold]{row.RatioVsFastestPeer:N2}x[/]");
            cells.Add($"{row.OursRssMegabytes:N0} ({row.SlotMegabytes:N0})");
            table.AddRow([.. cells.Select(c => c.StartsWith("[bold]", StringComparison.Ordinal) ? c : Markup.Escape(c))]);
        }

        table.Caption("images/s, medians of the runs; ours / fastest = our images/s over the fastest peer's, same run");
        return table;
    }
}
