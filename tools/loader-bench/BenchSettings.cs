namespace Loader.Tools.Bench;

/// <summary>
/// One measurement: which data, which pipeline, how long. <c>MaxBatches</c>: timed batches per epoch at most (0:
/// whole epochs); <c>ResumeAt</c>: the first timed epoch starts at this (epoch, position), as a resumed job does;
/// <c>DropCaches</c>: drop the OS page cache before each timed epoch (cold-storage runs; needs root);
/// <c>ReadAhead</c>: the loader's read-ahead in samples (null: the loader's default); <c>GpuSplice</c>: the GPU
/// backend gives nvJPEG each crop's sub-JPEG of restart intervals (false: the whole JPEG with a region of interest).
/// </summary>
internal sealed record BenchSettings(string DataDirectory, int BatchSize, int Threads, int Epochs, bool Eval,
                                     int WarmupEpochs = 1, ulong Seed = 0, int PrefetchDepth = 2, string Backend = "cpu",
                                     int MaxBatches = 0, (int Epoch, long Position)? ResumeAt = null, bool DropCaches = false,
                                     int? ReadAhead = null, bool GpuSplice = true);
