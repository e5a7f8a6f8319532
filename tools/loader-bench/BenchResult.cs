using System.Text.Json.Serialization;

namespace Loader.Tools.Bench;

/// <summary>What one measurement found. Busy times are summed over the worker threads, per image.</summary>
internal sealed record BenchResult
{
    [JsonPropertyName("tool")] public string Tool { get; init; } = "loader-bench";
    [JsonPropertyName("mode")] public required string Mode { get; init; }
    [JsonPropertyName("backend")] public string Backend { get; init; } = "cpu";
    [JsonPropertyName("images_per_sec")] public required double ImagesPerSecond { get; init; }
    [JsonPropertyName("timed_images")] public required long TimedImages { get; init; }
    [JsonPropertyName("timed_s")] public required double TimedSeconds { get; init; }
    [JsonPropertyName("epoch_s")] public required double[] EpochSeconds { get; init; }
    [JsonPropertyName("epochs")] public required int Epochs { get; init; }
    [JsonPropertyName("warmup_epochs")] public required int WarmupEpochs { get; init; }
    [JsonPropertyName("dataset_images")] public required long DatasetImages { get; init; }
    [JsonPropertyName("batches_per_epoch")] public required int BatchesPerEpoch { get; init; }
    [JsonPropertyName("batch")] public required int BatchSize { get; init; }
    [JsonPropertyName("threads")] public required int Threads { get; init; }
    [JsonPropertyName("prefetch_depth")] public required int PrefetchDepth { get; init; }
    [JsonPropertyName("read_ms_per_image")] public required double ReadMsPerImage { get; init; }
    [JsonPropertyName("decode_ms_per_image")] public required double DecodeMsPerImage { get; init; }
    [JsonPropertyName("worker_busy_fraction")] public required double WorkerBusyFraction { get; init; }
    [JsonPropertyName("consumer_wait_s")] public required double ConsumerWaitSeconds { get; init; }
    [JsonPropertyName("slot_wait_s")] public required double SlotWaitSeconds { get; init; }
    [JsonPropertyName("avg_queue_depth")] public required double AverageQueueDepth { get; init; }
    [JsonPropertyName("skipped_samples")] public required long SkippedSamples { get; init; }
    [JsonPropertyName("slot_mb")] public required double SlotMegabytes { get; init; }
    [JsonPropertyName("rss_mb_after_warmup")] public required double RssAfterWarmupMegabytes { get; init; }
    [JsonPropertyName("rss_mb_per_epoch")] public required double[] RssPerEpochMegabytes { get; init; }
    [JsonPropertyName("rss_mb_max")] public required double RssMaxMegabytes { get; init; }
    [JsonPropertyName("rss_over_slots_mb")] public required double RssOverSlotsMegabytes { get; init; }
    [JsonPropertyName("managed_allocated_bytes_per_image")] public required double AllocatedBytesPerImage { get; init; }
    [JsonPropertyName("gpu_device")] public string? GpuDevice { get; init; }
    [JsonPropertyName("gpu_hardware_decoder")] public bool? GpuHardwareDecoder { get; init; }
    [JsonPropertyName("gpu_hardware_unavailable_reason")] public string? GpuHardwareUnavailableReason { get; init; }
    [JsonPropertyName("gpu_decoded_hardware")] public long? GpuDecodedHardware { get; init; }
    [JsonPropertyName("gpu_decoded_hybrid")] public long? GpuDecodedHybrid { get; init; }
    [JsonPropertyName("gpu_decoded_cpu_fallback")] public long? GpuDecodedCpuFallback { get; init; }
    [JsonPropertyName("open_s")] public double OpenSeconds { get; init; }
    [JsonPropertyName("first_batch_s")] public double[] FirstBatchSeconds { get; init; } = [];
    [JsonPropertyName("max_batches")] public int MaxBatches { get; init; }
    [JsonPropertyName("resume_at")] public string? ResumeAt { get; init; }
    [JsonPropertyName("read_ahead_samples")] public int ReadAheadSamples { get; init; }
    [JsonPropertyName("gpu_splice")] public bool? GpuSplice { get; init; }
    [JsonPropertyName("caches_dropped")] public bool? CachesDropped { get; init; }
    [JsonPropertyName("decoded_samples")] public long DecodedSamples { get; init; }
    [JsonPropertyName("spliced_samples")] public long SplicedSamples { get; init; }
    [JsonPropertyName("spliced_entropy_fraction")] public double SplicedEntropyFraction { get; init; }
    [JsonPropertyName("cpu_count")] public int CpuCount { get; init; } = Environment.ProcessorCount;
}
