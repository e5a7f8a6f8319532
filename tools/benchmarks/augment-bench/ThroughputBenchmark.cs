using System.Diagnostics;
using System.Text.Json;
using Loader.Augment;
using Loader.Augment.Jpeg;

namespace Loader.Tools.AugmentBench;

/// <summary>
/// Single-core images per second, all on one thread over the same in-memory files, in the same run:
/// <list type="bullet">
/// <item>turbojpeg_full_decode: TurboJPEG full-image decode to RGB (the baseline);</item>
/// <item>train_transform: header + plan + ROI/DCT-scaled decode + resize + flip + normalize into a float32 CHW slot;</item>
/// <item>eval_transform: the same for Resize(256) + CenterCrop(224);</item>
/// <item>train_roi_decode_only: train_transform without the resize/flip/normalize (to see what those cost);</item>
/// <item>train_transform_spliced, eval_transform_spliced: the same transforms on the files transcoded in memory with
/// restart intervals (what make-records --restart-interval writes), decoded through the splicer.</item>
/// <item>train_transform_spliced_one_row: train_transform_spliced with the shim's entropy decoder reading one MCU row
/// at a time instead of two (<see cref="Loader.Augment.Interop.LibLoaderJpeg.EntropyFast"/>): what the paired rows earn.</item>
/// </list>
/// The unspliced passes run with splicing off (today's path even for an original that has restart markers). Then
/// the splicer alone: microseconds to build a training crop's sub-JPEG, and to scan every interval of a file (the
/// most an interval table stored in the index could save per sample).
/// Then train_resample_microseconds_per_image: the resize/flip/normalize/store half of train_transform timed alone.
/// The passes alternate (baseline, train, eval, baseline, ...) so drift in machine load hits all of them alike. Each
/// pass reports wall-clock images/s and images per CPU-second of this process (steadier on a shared machine); the
/// ratios use the medians. With --pass NAME only that pass runs, for a profiler.
/// </summary>
internal static class ThroughputBenchmark
{
    public static int Run(string dataDir, double secondsPerPass, int rounds, string? jsonPath, RestartMode restart, string? onlyPass = null)
    {
        var files = Directory.EnumerateFiles(dataDir).Where(f => f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        if (files.Length == 0)
        {
            Console.Error.WriteLine($"no JPEG files in {dataDir}");
            return 2;
        }

        // What make-records --restart-interval would store; a file the transcoder cannot read stays as it is.
        var transcodeClock = Stopwatch.StartNew();
        var untranscoded = 0;
        var transcoded = files.Select(f =>
        {
            try
            {
                return RestartTranscoder.Transcode(f, restart);
            }
            catch (ImageDecodeException)
            {
                untranscoded++;
                return f;
            }
        }).ToArray();
        var transcodeSeconds = transcodeClock.Elapsed.TotalSeconds;

        var spec = OutputSpec.ImageNet();
        var slot = new byte[spec.BytesPerSample];
        var planner = new SamplePlanner(new AugmentOptions());
        using var turbo = new TurboJpegDecoder();
        using var decoder = new CpuSampleDecoder { SpliceRestartIntervals = false };
        using var trainSpliced = new CpuSampleDecoder();
        using var evalSpliced = new CpuSampleDecoder();
        using var trainSplicedOneRow = new CpuSampleDecoder { EntropyMode = Loader.Augment.Interop.LibLoaderJpeg.EntropyFast };
        var splicer = new JpegSplicer();
        var epoch = 0;

        void Baseline(int i) => turbo.Decode(files[i]);

        // The training and eval transforms, on the original files or (spliced) on their transcoded copies.
        void TrainOn(CpuSampleDecoder d, byte[][] f, int i)
        {
            var info = d.ReadHeader(f[i]);
            var plan = planner.PlanTrain(7, epoch, i, info.Width, info.Height);
            d.Process(f[i], plan, spec, slot);
        }

        void EvalOn(CpuSampleDecoder d, byte[][] f, int i)
        {
            var info = d.ReadHeader(f[i]);
            d.Process(f[i], planner.PlanEval(info.Width, info.Height), spec, slot);
        }

        void Train(int i) => TrainOn(decoder, files, i);

        // The decode half of Train alone: what the resize, flip and normalize add is the difference.
        void TrainDecodeOnly(int i)
        {
            var info = decoder.ReadHeader(files[i]);
            var plan = planner.PlanTrain(7, epoch, i, info.Width, info.Height);
            decoder.DecodeRegion(files[i], plan, spec);
        }

        void Eval(int i) => EvalOn(decoder, files, i);

        void TrainSpliced(int i) => TrainOn(trainSpliced, transcoded, i);

        void EvalSpliced(int i) => EvalOn(evalSpliced, transcoded, i);

        void TrainSplicedOneRow(int i) => TrainOn(trainSplicedOneRow, transcoded, i);

        // Warm-up: JIT, scratch buffers, page cache.
        for (var i = 0; i < files.Length; i++)
        {
            Baseline(i);
            Train(i);
            Eval(i);
            TrainSpliced(i);
            EvalSpliced(i);
            TrainSplicedOneRow(i);
        }

        string[] names = ["turbojpeg_full_decode", "train_transform", "eval_transform", "train_roi_decode_only", "train_transform_spliced", "eval_transform_spliced",
                          "train_transform_spliced_one_row"];
        Action<int>[] work = [Baseline, Train, Eval, TrainDecodeOnly, TrainSpliced, EvalSpliced, TrainSplicedOneRow];
        if (onlyPass is not null)
        {
            // For a profiler (perf record): this one pass alone, rounds x seconds, after the same warm-up.
            var k = Array.IndexOf(names, onlyPass);
            if (k < 0)
            {
                Console.Error.WriteLine($"unknown pass {onlyPass}; one of {string.Join(", ", names)}");
                return 2;
            }

            var (wall, _) = Measure(files.Length, secondsPerPass * rounds, work[k]);
            Console.WriteLine($"{onlyPass}: {wall:F1} images/s");
            return 0;
        }

        var results = names.ToDictionary(n => n, _ => new List<double>());
        var cpuResults = names.ToDictionary(n => n, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < names.Length; k++)
            {
                var (wall, cpu) = Measure(files.Length, secondsPerPass, work[k]);
                results[names[k]].Add(wall);
                cpuResults[names[k]].Add(cpu);
            }

            epoch++;
        }

        // The resize + flip + normalize + store half alone, in microseconds per image: decoding is left out of the
        // clock, so this figure does not carry the decoder's noise.
        var resampleMicroseconds = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            long ticks = 0;
            var done = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < secondsPerPass)
            {
                var i = done % files.Length;
                var info = decoder.ReadHeader(files[i]);
                var plan = planner.PlanTrain(7, round, i, info.Width, info.Height);
                var (stride, rowBytes) = decoder.DecodeRegion(files[i], plan, spec);
                var start = Stopwatch.GetTimestamp();
                decoder.Resample(spec, plan.Flip, stride, rowBytes, slot);
                ticks += Stopwatch.GetTimestamp() - start;
                done++;
            }

            resampleMicroseconds.Add(ticks * 1e6 / Stopwatch.Frequency / done);
        }

        // The splicer alone, on the transcoded files: a training crop's sub-JPEG (scan up to its last interval + copy),
        // and a scan of every interval (a one-pixel crop in the bottom-right corner).
        double SpliceMicroseconds(Func<int, ImageInfo, (int X, int Y, int W, int H)> rectangle)
        {
            var perRound = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var done = 0;
                long ticks = 0;
                var watch = Stopwatch.StartNew();
                while (watch.Elapsed.TotalSeconds < secondsPerPass / 4)
                {
                    var i = done % files.Length;
                    var info = trainSpliced.ReadHeader(transcoded[i]);
                    var (x, y, w, h) = rectangle(i, info);
                    var start = Stopwatch.GetTimestamp();
                    splicer.TrySplice(transcoded[i], 8, x, y, w, h, out _);
                    ticks += Stopwatch.GetTimestamp() - start;
                    done++;
                }

                perRound.Add(ticks * 1e6 / Stopwatch.Frequency / done);
            }

            return Math.Round(Median(perRound), 2);
        }

        var spliceCrop = SpliceMicroseconds((i, info) =>
        {
            var crop = planner.PlanTrain(7, 0, i, info.Width, info.Height).Crop;
            return (crop.X, crop.Y, crop.Width, crop.Height);
        });
        var spliceScanAll = SpliceMicroseconds((_, info) => (info.Width - 1, info.Height - 1, 1, 1));

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        static object Splicing(SpliceStatistics s) => new
        {
            samples = s.Samples,
            spliced_samples = s.SplicedSamples,
            spliced_fraction = Math.Round((double)s.SplicedSamples / Math.Max(1, s.Samples), 4),
            entropy_bytes_decoded_fraction_of_spliced = Math.Round(s.SplicedEntropyFraction, 4),
        };
        var baseline = Median(results["turbojpeg_full_decode"]);
        var cpuBaseline = Median(cpuResults["turbojpeg_full_decode"]);
        var report = new
        {
            benchmark = "augment-cpu-single-core",
            data = Path.GetFullPath(dataDir),
            images = files.Length,
            output = $"{spec.Width}x{spec.Height} {spec.Type} {spec.Layout}",
            rounds,
            seconds_per_pass = secondsPerPass,
            images_per_second = results.ToDictionary(r => r.Key, r => Math.Round(Median(r.Value), 1)),
            images_per_cpu_second = cpuResults.ToDictionary(r => r.Key, r => Math.Round(Median(r.Value), 1)),
            all_passes = results.ToDictionary(r => r.Key, r => r.Value.Select(v => Math.Round(v, 1)).ToArray()),
            train_resample_microseconds_per_image = Math.Round(Median(resampleMicroseconds), 1),
            train_vs_full_decode = Math.Round(Median(results["train_transform"]) / baseline, 3),
            eval_vs_full_decode = Math.Round(Median(results["eval_transform"]) / baseline, 3),
            train_vs_full_decode_cpu = Math.Round(Median(cpuResults["train_transform"]) / cpuBaseline, 3),
            train_vs_full_decode_cpu_per_round = cpuResults["train_transform"].Zip(cpuResults["turbojpeg_full_decode"], (t, b) => Math.Round(t / b, 3)).ToArray(),
            eval_vs_full_decode_cpu = Math.Round(Median(cpuResults["eval_transform"]) / cpuBaseline, 3),
            restart_interval = restart.ToString(),
            transcoded_files = files.Length - untranscoded,
            transcoded_bytes_vs_original = Math.Round((double)transcoded.Sum(t => (long)t.Length) / files.Sum(f => (long)f.Length), 4),
            transcode_milliseconds_per_image = Math.Round(transcodeSeconds * 1e3 / files.Length, 3),
            train_spliced_vs_full_decode = Math.Round(Median(results["train_transform_spliced"]) / baseline, 3),
            eval_spliced_vs_full_decode = Math.Round(Median(results["eval_transform_spliced"]) / baseline, 3),
            train_spliced_vs_full_decode_cpu = Math.Round(Median(cpuResults["train_transform_spliced"]) / cpuBaseline, 3),
            train_spliced_vs_full_decode_cpu_per_round = cpuResults["train_transform_spliced"].Zip(cpuResults["turbojpeg_full_decode"], (t, b) => Math.Round(t / b, 3)).ToArray(),
            eval_spliced_vs_full_decode_cpu = Math.Round(Median(cpuResults["eval_transform_spliced"]) / cpuBaseline, 3),
            train_spliced_vs_train = Math.Round(Median(results["train_transform_spliced"]) / Median(results["train_transform"]), 3),
            train_spliced_paired_vs_one_row = Math.Round(Median(results["train_transform_spliced"]) / Median(results["train_transform_spliced_one_row"]), 3),
            train_spliced_paired_vs_one_row_cpu_per_round = cpuResults["train_transform_spliced"]
                .Zip(cpuResults["train_transform_spliced_one_row"], (t, b) => Math.Round(t / b, 3)).ToArray(),
            eval_spliced_vs_eval = Math.Round(Median(results["eval_transform_spliced"]) / Median(results["eval_transform"]), 3),
            splicing_train = Splicing(trainSpliced.Statistics),
            splicing_eval = Splicing(evalSpliced.Statistics),
            splice_build_microseconds_per_train_crop = spliceCrop,
            splice_scan_every_interval_microseconds = spliceScanAll,
            processor_count = Environment.ProcessorCount,
            runtime = Environment.Version.ToString(),
        };
        var json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        if (jsonPath is not null)
        {
            File.WriteAllText(jsonPath, json);
        }

        return 0;
    }

    private static (double Wall, double Cpu) Measure(int count, double seconds, Action<int> work)
    {
        using var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var done = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            work(done % count);
            done++;
        }

        var wall = watch.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        return (done / wall, done / cpu);
    }
}
