using Loader.Tools.MakeRecords.Sanitizing;

namespace Loader.Tools.MakeRecords.Job;

/// <summary>Everything a make-records run depends on. Output bytes depend on all of it except
/// <see cref="Threads"/>, <see cref="ReportPath"/> and <see cref="Strict"/>.</summary>
internal sealed record MakeRecordsOptions(string Input, string Output)
{
    public string? FileList { get; init; }

    /// <summary>Shard name prefix; default: the input folder's name ("train", "val"), else "data".</summary>
    public string? Name { get; init; }

    public int? Shards { get; init; }

    /// <summary>Target shard size in bytes when <see cref="Shards"/> is not given.</summary>
    public long ShardSize { get; init; } = DefaultShardSize;

    public ulong Seed { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;

    public SanitizeOptions Sanitize { get; init; } = new();

    public string? ReportPath { get; init; }

    public bool Strict { get; init; }

    public const long DefaultShardSize = 128L << 20;
}
