using System.CommandLine;
using System.Text.Json;
using Loader.Augment.Cuda;

namespace Loader.Tools.Bench;

/// <summary>loader-bench: <c>run</c> (time the loader), <c>compare</c> (against the PyTorch peers), <c>preview</c>.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Benchmarks the .NET data loader over a record directory. --verbose (any command): " +
                                   "a stack trace with an error. " + ExitCodes.Text)
        {
            RunCommand(),
            CompareCommand.Create(),
            PreviewCommandLine(),
        };
        bool verbose = args.Contains("--verbose");
        try
        {
            ParseResult parsed = root.Parse([.. args.Where(a => a != "--verbose")]);
            if (parsed.Errors.Count > 0)
            {
                // A usage error is one line (the first problem) and exit 2, not the help page.
                string command = parsed.CommandResult.Command == root ? "" : $" {parsed.CommandResult.Command.Name}";
                Console.Error.WriteLine($"loader-bench: error: {parsed.Errors[0].Message} (see loader-bench{command} --help)");
                return ExitCodes.Usage;
            }

            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            // One line naming the problem (the loader's messages name the file, the record and the field);
            // the stack trace only with --verbose. Exit 1: the run failed.
            Console.Error.WriteLine($"loader-bench: error: {e.Message}");
            if (verbose)
            {
                Console.Error.WriteLine(e);
            }

            return ExitCodes.Failed;
        }
    }

    private static Command RunCommand()
    {
        var data = new Option<string>("--data") { Description = "Record directory (make-records output)", Required = true };
        var backend = new Option<string>("--backend") { Description = "cpu (libjpeg-turbo + SIMD) or gpu (nvJPEG + CUDA; exit 3 without a usable GPU)", DefaultValueFactory = _ => "cpu" };
        var batch = new Option<int>("--batch") { Description = "Batch size", DefaultValueFactory = _ => 256 };
        var threads = new Option<int>("--threads") { Description = "Decode threads (default: the machine's cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var epochs = new Option<int>("--epochs") { Description = "Timed epochs (after the warm-up epochs)", DefaultValueFactory = _ => 2 };
        var warmup = new Option<int>("--warmup-epochs") { Description = "Untimed epochs first (not with --resume-at)", DefaultValueFactory = _ => 1 };
        var eval = new Option<bool>("--eval") { Description = "Evaluation pipeline (resize 256, center crop 224) instead of training (random-resized crop 224 + flip); default: training" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (images_per_sec and every other figure) instead of the table; default: the table" };
        var maxBatches = new Option<int>("--max-batches") { Description = "Time at most this many batches per epoch (0: whole epochs)", DefaultValueFactory = _ => 0 };
        var resumeAt = new Option<string?>("--resume-at") { Description = "EPOCH:POSITION: start there, as a resumed job does (no warm-up); default: epoch 0, position 0" };
        var readAhead = new Option<int?>("--read-ahead") { Description = "Samples read ahead of the decoders (0: off; default: the loader's, " + Loader.Pipeline.LoaderOptions.DefaultReadAheadSamples.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")" };
        var dropCaches = new Option<bool>("--drop-caches") { Description = "Drop the OS page cache before each timed epoch (needs root); default: off" };
        var gpuSplice = new Option<string>("--gpu-splice") { Description = "on: the GPU backend gives nvJPEG each crop's sub-JPEG of restart intervals, where the records have them; off: the whole JPEG with the crop as region of interest (to measure what splicing gains)", DefaultValueFactory = _ => "on" };
        var command = new Command("run", "Time whole epochs of the loader. " + ExitCodes.Text)
        {
            data, backend, batch, threads, epochs, warmup, eval, json, maxBatches, resumeAt, dropCaches, readAhead, gpuSplice,
        };
        command.SetAction(parse =>
        {
            string backendName = parse.GetValue(backend)!;
            if (backendName == "gpu" && GpuAvailability.Probe() is { IsAvailable: false } probe)
            {
                // Fail at once, saying what is missing, before opening any records.
                Console.Error.WriteLine($"loader-bench: --backend gpu: {probe.Summary}");
                return ExitCodes.NoGpu;
            }

            if (backendName is not ("cpu" or "gpu"))
            {
                Console.Error.WriteLine($"loader-bench: unknown backend '{backendName}' (cpu or gpu)");
                return ExitCodes.Usage;
            }

            if (parse.GetValue(gpuSplice) is not ("on" or "off") || (parse.GetValue(gpuSplice) == "off" && backendName != "gpu"))
            {
                Console.Error.WriteLine($"loader-bench: --gpu-splice takes on or off, and off only with --backend gpu (got '{parse.GetValue(gpuSplice)}')");
                return ExitCodes.Usage;
            }

            string dir = parse.GetValue(data)!;
            if (!Directory.Exists(dir))
            {
                Console.Error.WriteLine($"loader-bench: record directory not found: {dir}");
                return ExitCodes.Usage;
            }

            (int, long)? resume = null;
            if (parse.GetValue(resumeAt) is { } at)
            {
                string[] parts = at.Split(':');
                if (parts.Length != 2 || !int.TryParse(parts[0], out int e) || !long.TryParse(parts[1], out long p) || e < 0 || p < 0)
                {
                    Console.Error.WriteLine($"loader-bench: --resume-at: '{at}' is not EPOCH:POSITION (two non-negative integers)");
                    return ExitCodes.Usage;
                }

                resume = (e, p);
            }

            if (parse.GetValue(maxBatches) < 0 || parse.GetValue(batch) <= 0 || parse.GetValue(threads) <= 0 || parse.GetValue(epochs) <= 0)
            {
                Console.Error.WriteLine("loader-bench: --batch, --threads and --epochs must be positive, --max-batches 0 or more");
                return ExitCodes.Usage;
            }

            var settings = new BenchSettings(dir, parse.GetValue(batch), parse.GetValue(threads), parse.GetValue(epochs),
                                             parse.GetValue(eval), parse.GetValue(warmup), Backend: backendName,
                                             MaxBatches: parse.GetValue(maxBatches), ResumeAt: resume, DropCaches: parse.GetValue(dropCaches),
                                             ReadAhead: parse.GetValue(readAhead), GpuSplice: parse.GetValue(gpuSplice) == "on");
            BenchResult result = BenchRunner.Run(settings);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(result));
            }
            else
            {
                Report.Print(result);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command PreviewCommandLine()
    {
        var data = new Option<string>("--data") { Description = "Record directory, or a folder of JPEGs", Required = true };
        var count = new Option<int>("--count") { Description = "Samples to write (the first of epoch 0)", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--out") { Description = "Output folder (NNNN.png + NNNN.json per sample)", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Loader seed (the crops and flips drawn)", DefaultValueFactory = _ => 0UL };
        var eval = new Option<bool>("--eval") { Description = "Evaluation transform instead of training; default: training" };
        var command = new Command("preview", "Write the first samples of epoch 0 as the model sees them. " + ExitCodes.Text) { data, count, output, seed, eval };
        command.SetAction(parse => PreviewCommand.Run(parse.GetValue(data)!, parse.GetValue(count), parse.GetValue(output)!,
                                                      parse.GetValue(seed), parse.GetValue(eval)));
        return command;
    }
}
