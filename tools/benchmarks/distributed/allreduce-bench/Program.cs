using System.Diagnostics;
using System.Globalization;
using Loader.Trainer.Distributed;
using static TorchSharp.torch;

// allreduce-bench MB [MB...]: for each size, the median time of 50 in-place float32 sums over the job's ranks through
// the trainer's Communicator (after 3 warm-up calls). Rank 0 prints one JSON object per size.
using Communicator comm = Communicator.Create(LaunchEnvironment.Detect(), CPU);
foreach (string arg in args)
{
    double megabytes = double.Parse(arg, CultureInfo.InvariantCulture);
    long count = (long)(megabytes * 1_000_000 / sizeof(float));
    using Tensor buffer = ones(count);
    var times = new List<double>();
    for (int i = 0; i < 53; i++)
    {
        comm.Barrier();
        long start = Stopwatch.GetTimestamp();
        comm.AllReduceSum(buffer);
        if (i >= 3) times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
    }
    times.Sort();
    double median = times[times.Count / 2];
    if (comm.IsRoot)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"impl\":\"communicator\",\"ranks\":{comm.WorldSize},\"megabytes\":{megabytes},\"median_seconds\":{median:G6},\"algbw_gb_per_s\":{megabytes / 1000 / median:G6}}}"));
}
