using System.Text.Json.Serialization;

namespace Loader.Tools.MakeRecords.Job;

/// <summary>One line of the report: an input file and what became of it. Shard and record are null when skipped.</summary>
internal sealed record InputOutcome(string Path, string Status, string? Reason, int Label, string? Shard, int? Record);

/// <summary>What a shard's work folder entry remembers, so a rerun can take a finished shard as it is.</summary>
internal sealed record ShardCheckpoint(string PlanDigest, Loader.Records.Index.ManifestShard Shard, int[] Labels,
                                       IReadOnlyList<InputOutcome> Outcomes);

/// <summary>The <c>--report</c> file.</summary>
internal sealed record RunReport(string Input, string Output, string InputKind, long InputFiles, long Written, long Reencoded,
                                 long Skipped, long Records, int Shards, int ShardsReused, double Seconds,
                                 IReadOnlyList<InputOutcome> Files)
{
    /// <summary>--restart-interval (off: absent, and <see cref="Transcoded"/> with it).</summary>
    public string? RestartInterval { get; init; }

    /// <summary>Passthrough JPEGs rewritten with restart intervals (status "transcoded"; not counted in Written).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Transcoded { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
                             DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunReport))]
[JsonSerializable(typeof(ShardCheckpoint))]
internal sealed partial class JobJsonContext : JsonSerializerContext;
