using Loader.Tools.MakeRecords.Inputs;
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

    /// <summary>Keep class folders without files as classes with no records (otherwise the run stops).</summary>
    public bool AllowEmptyClasses { get; init; }

    /// <summary>Take a folder of TFRecord input files that cannot be shown complete (no manifest, unnumbered names).</summary>
    public bool AllowPartial { get; init; }

    /// <summary>Validation labels (--labels FILE): the input is ImageNet's flat validation folder.</summary>
    public string? Labels { get; init; }

    /// <summary>The devkit's synset mapping (--synsets FILE: meta.mat or "ID WNID" lines); default: meta.mat beside --labels.</summary>
    public string? Synsets { get; init; }

    /// <summary>Take the classes and their order from this training folder or record set (--classes-from DIR).</summary>
    public string? ClassesFrom { get; init; }

    /// <summary>What the input scan is told.</summary>
    public ScanOptions Scan => new()
    {
        FileList = FileList,
        Labels = Labels,
        Synsets = Synsets,
        ClassesFrom = ClassesFrom,
        AllowEmptyClasses = AllowEmptyClasses,
        AllowPartial = AllowPartial,
    };

    public const long DefaultShardSize = 128L << 20;

    /// <summary>The smallest --shard-size: smaller shards cost a file and an index each and save nothing.</summary>
    public const long MinShardSize = 1L << 20;

    public const int MaxShards = 99_999;

    /// <summary>Every numeric option in range, or an <see cref="ArgumentException"/> naming the option: never a value
    /// changed silently.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }

        Require(Threads >= 1, $"--threads must be at least 1 (got {Threads})");
        Require(Shards is null or (>= 1 and <= MaxShards), $"--shards must be between 1 and {MaxShards} (got {Shards})");
        Require(ShardSize >= MinShardSize, $"--shard-size must be at least 1MB (got {ShardSize} bytes)");
        Require(Sanitize.MaxPixels >= 1, $"--max-pixels must be at least 1 (got {Sanitize.MaxPixels})");
        Require(Sanitize.MaxSide is null or >= 1, $"--max-side must be at least 1 (got {Sanitize.MaxSide})");
        Require(Sanitize.Quality is >= 1 and <= 100, $"--quality must be between 1 and 100 (got {Sanitize.Quality})");
    }
}
