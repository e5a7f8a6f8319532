using System.Diagnostics;
using System.Text;

namespace Loader.Trainer.Tests.Distributed;

/// <summary>
/// Starts a program on N ranks with Open MPI's mpirun (Debian: openmpi-bin, installed by scripts/setup.sh), with
/// MPICH's mpiexec (Debian: mpich, installed too) for the other ABI, or with Slurm's srun where a Slurm runs, and
/// collects its output and exit code, with a time limit so that a hung job fails the test instead of the suite.
/// </summary>
internal static class MpiRun
{
    /// <summary>Open MPI's launcher: by its own name first (with MPICH installed too, plain <c>mpirun</c> is whichever
    /// the alternatives system picked).</summary>
    public static readonly string? Launcher = Find("mpirun.openmpi") ?? Find("mpirun");

    /// <summary>MPICH's Hydra launcher.</summary>
    public static readonly string? Mpich = Find("mpiexec.mpich");

    public const string SkipReason = "mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev; scripts/setup.sh does)";

    public const string MpichSkipReason = "mpiexec.mpich not found: install MPICH (apt-get install mpich; scripts/setup.sh does)";

    /// <summary>The test host beside the tests (Trainer.Tests references its project, so the build copies it here).</summary>
    public static string TestHost => Path.Combine(AppContext.BaseDirectory, "trainer-dist-testhost.dll");

    /// <summary>The trainer CLI beside the tests.</summary>
    public static string Trainer => Path.Combine(AppContext.BaseDirectory, "trainer.dll");

    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed, bool TimedOut);

    /// <summary>Runs <c>mpirun -np ranks dotnet dll args</c>.</summary>
    public static Result Run(int ranks, string dll, params string[] args) => RunApps(TimeSpan.FromSeconds(90), [(ranks, dll, args)]);

    /// <summary>Runs <c>mpiexec.mpich -np ranks dotnet dll args</c>: nothing tells the ranks which MPI library to load
    /// but the launcher's own environment.</summary>
    public static Result RunMpich(int ranks, string dll, params string[] args)
    {
        Assert.SkipWhen(Mpich is null, MpichSkipReason);
        var start = new ProcessStartInfo(Mpich!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])["-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet", dll, .. args])
            start.ArgumentList.Add(a);
        return Collect(start, TimeSpan.FromSeconds(90));
    }

    /// <summary>Slurm's launcher (Debian: slurm-client); the tests that use it skip unless <see cref="SrunSkipReason"/>
    /// finds a Slurm that runs a 2-task step (CI has none).</summary>
    public static readonly string? Srun = Find("srun");

    private static readonly Dictionary<string, string?> s_srunSkipReasons = [];

    /// <summary>Why <c>srun -n 2 --mpi=PLUGIN</c> cannot be tried here, or null when it ran a 2-task step just now.</summary>
    public static string? SrunSkipReason(string mpiPlugin)
    {
        lock (s_srunSkipReasons)
        {
            if (s_srunSkipReasons.TryGetValue(mpiPlugin, out string? known)) return known;
            string? reason = ProbeSrun(mpiPlugin);
            s_srunSkipReasons[mpiPlugin] = reason;
            return reason;
        }
    }

    private static string? ProbeSrun(string mpiPlugin)
    {
        if (Srun is null) return "srun not found: no Slurm here (Debian: slurm-wlm, and a running slurmctld and slurmd)";
        // scontrol ping answers at once; srun without a controller retries for about 9 s before it fails.
        string scontrol = Path.Combine(Path.GetDirectoryName(Srun)!, "scontrol");
        if (File.Exists(scontrol))
        {
            Result ping = Collect(SlurmStart(scontrol, "ping"), TimeSpan.FromSeconds(20));
            if (ping.ExitCode != 0) return $"no Slurm controller answers (scontrol ping: {ping.Output.Trim().Split('\n')[0]})";
        }
        // A time limit: srun on a full cluster would wait.
        Result list = Collect(SrunStart("--mpi=list"), TimeSpan.FromSeconds(20));
        if (list.ExitCode != 0) return $"srun --mpi=list failed ({(list.TimedOut ? "timed out" : $"exit {list.ExitCode}")}): {list.Output.Trim()}";
        if (!list.Output.Split('\n').Any(line => line.Trim() == mpiPlugin))
            return $"this Slurm has no {mpiPlugin} MPI plugin (srun --mpi=list: {string.Join(", ", list.Output.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Skip(1))})";
        Result step = Collect(SrunStart("-n", "2", "--mpi=" + mpiPlugin, "true"), TimeSpan.FromSeconds(30));
        return step.ExitCode == 0 ? null
            : $"srun -n 2 --mpi={mpiPlugin} true failed ({(step.TimedOut ? "no 2 tasks within 30 s" : $"exit {step.ExitCode}")}): {step.Output.Trim()}";
    }

    /// <summary>Runs <c>srun -n ranks --mpi=PLUGIN dotnet dll args</c>: the ranks learn who they are from Slurm alone;
    /// <c>--kill-on-bad-exit</c> so that one failing rank ends the step, as MPI_Abort does under mpirun.</summary>
    public static Result RunSrun(string mpiPlugin, int ranks, string dll, params string[] args)
    {
        string? skip = SrunSkipReason(mpiPlugin);
        Assert.SkipWhen(skip is not null, skip ?? "");
        return Collect(SrunStart(["-n", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mpi=" + mpiPlugin,
                                  "--kill-on-bad-exit=1", "dotnet", dll, .. args]), TimeSpan.FromSeconds(90));
    }

    private static ProcessStartInfo SrunStart(params string[] args) => SlurmStart(Srun!, args);

    private static ProcessStartInfo SlurmStart(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>MPMD: <c>mpirun -np n1 dotnet dll1 args1 : -np n2 ...</c> (ranks that get different arguments).</summary>
    public static Result RunApps(TimeSpan limit, IReadOnlyList<(int Ranks, string Dll, string[] Args)> apps)
    {
        Assert.SkipWhen(Launcher is null, SkipReason);
        var start = new ProcessStartInfo(Launcher!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Environment.UserName == "root") start.ArgumentList.Add("--allow-run-as-root");
        // Two cores here: ranks x threads may exceed them. Stdin off: no rank waits on the test's input.
        foreach (string a in (string[])["--oversubscribe", "--bind-to", "none", "--stdin", "none"]) start.ArgumentList.Add(a);
        for (int i = 0; i < apps.Count; i++)
        {
            if (i > 0) start.ArgumentList.Add(":");
            start.ArgumentList.Add("-np");
            start.ArgumentList.Add(apps[i].Ranks.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.ArgumentList.Add("dotnet");
            start.ArgumentList.Add(apps[i].Dll);
            foreach (string a in apps[i].Args) start.ArgumentList.Add(a);
        }
        return Collect(start, limit);
    }

    private static Result Collect(ProcessStartInfo start, TimeSpan limit)
    {
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool exited = process.WaitForExit(limit);
        if (!exited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        lock (output) return new Result(exited ? process.ExitCode : -1, output.ToString(), clock.Elapsed, !exited);
    }

    private static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}
