namespace Loader.Tools.Bench;

/// <summary>loader-bench's exit codes, the same for every command, and the line of help that lists them.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NoGpu = 3;

    public const string Text = "Exit codes: 0 done, 1 the run failed, 2 usage error (a bad option or a missing path), " +
                               "3 no usable GPU for --backend gpu.";
}
