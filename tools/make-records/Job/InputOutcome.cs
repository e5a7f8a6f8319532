using System.Text.Json.Serialization;

namespace Loader.Tools.MakeRecords.Job;

/// <summary>One line of the report: an input file and what became of it. Shard and record are null when skipped.</summary>
internal sealed record InputOutcome(string Path, string Status, string? Reason, int Label, string? Shard, int? Record);

/// <summary>An input of a shard that was not written as it is: its position in the shard's plan, status, reason.</summary>
internal sealed record ItemOutcome(int Item, string Status, string? Reason);

/// <summary>
/// What a shard's work folder entry remembers, so a rerun can take a finished shard as it is: the plan's digest, the
/// manifest entry, records per label, and only the inputs that were skipped or re-encoded (a written input's outcome
/// follows from the plan). Small: a rerun that keeps every shard reads a few bytes per shard, not per record.
/// </summary>
internal sealed record ShardCheckpoint(string PlanDigest, Loader.Records.Index.ManifestShard Shard, int[] Labels, long[] Counts,
                                       IReadOnlyList<ItemOutcome> NotWritten);

/// <summary>A run's summary. <see cref="NotWritten"/>: the skipped and re-encoded inputs (the <c>--report</c> file lists
/// every input, streamed from the plan: <see cref="RunReportWriter"/>).</summary>
internal sealed record RunReport(string Input, string Output, string InputKind, long InputFiles, long Written, long Reencoded,
                                 long Skipped, long Records, int Shards, int ShardsReused, double Seconds,
                                 IReadOnlyList<InputOutcome> NotWritten)
{
    /// <summary>--restart-interval (off: absent, and <see cref="Transcoded"/> with it).</summary>
    public string? RestartInterval { get; init; }

    /// <summary>Passthrough JPEGs rewritten with restart intervals (status "transcoded"; not counted in Written).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Transcoded { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
                             DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ShardCheckpoint))]
internal sealed partial class JobJsonContext : JsonSerializerContext;
