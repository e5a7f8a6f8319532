using System.Diagnostics;
using System.Globalization;
using Loader.Trainer.Distributed.TestHost;

// trainer-dist-testhost MODE [args]: one distributed check, run by every rank of `mpirun -np N`. Each mode prints
// "ok: ..." on success; failures throw (the message on standard error, a non-zero exit code).
string mode = args.Length > 0 ? args[0] : throw new ArgumentException("usage: trainer-dist-testhost MODE [args]");
Loader.Trainer.Interop.TorchRuntime.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
var clock = Stopwatch.StartNew();
int code = mode switch
{
    "allreduce" => Checks.AllReduce(),
    "step" => Checks.OneStep(),
    "broadcast" => Checks.Broadcast(),
    "replica" => Checks.Replica(),
    "kill" => Checks.KilledRank(),
    "sequence" => SequenceRun.Run(args[1..]),
    "diverge" => DivergenceRun.Run(),
    _ => throw new ArgumentException($"unknown mode {mode}"),
};
Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode}: {clock.Elapsed.TotalSeconds:F1} s"));
return code;
