namespace Loader.Tools.Bench;

/// <summary>One measurement: which data, which pipeline, how long.</summary>
internal sealed record BenchSettings(string DataDirectory, int BatchSize, int Threads, int Epochs, bool Eval,
                                     int WarmupEpochs = 1, ulong Seed = 0, int PrefetchDepth = 2, string Backend = "cpu");
