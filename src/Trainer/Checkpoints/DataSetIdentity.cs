using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Loader.Records.Index;
using Loader.Trainer.Data;

namespace Loader.Trainer.Checkpoints;

/// <summary>
/// Which data a run trains on, as a checkpoint remembers it, so a resume on other data is noticed: the kind of source,
/// the directory, the record and class counts, and a fingerprint of the content (the manifest's shard names, counts
/// and SHA-256s; a copy of the same records elsewhere has the same fingerprint).
/// </summary>
public sealed record DataSetIdentity
{
    /// <summary>"records" (the CPU or GPU record loader) or "synthetic".</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }

    [JsonPropertyName("directory")] public string? Directory { get; init; }

    /// <summary>The manifest's record count; without a manifest, the samples of one epoch.</summary>
    [JsonPropertyName("records")] public long Records { get; init; }

    [JsonPropertyName("classes")] public int Classes { get; init; }

    /// <summary>SHA-256 (hex) over the manifest's shards; null without a manifest.</summary>
    [JsonPropertyName("fingerprint")] public string? Fingerprint { get; init; }

    public static DataSetIdentity ForSynthetic(IBatchSource source) =>
        new() { Kind = "synthetic", Records = source.SamplesPerEpoch, Classes = source.ClassCount };

    public static DataSetIdentity ForRecords(string directory, IBatchSource source)
    {
        string full = Path.GetFullPath(directory);
        string manifestPath = Path.Combine(full, ShardNaming.ManifestFileName);
        if (!File.Exists(manifestPath))
            return new() { Kind = "records", Directory = full, Records = source.SamplesPerEpoch, Classes = source.ClassCount };
        DatasetManifest manifest = DatasetManifest.Read(manifestPath);
        var content = new StringBuilder();
        foreach (ManifestShard shard in manifest.Shards)
            content.Append(shard.File).Append('\t').Append(shard.Records).Append('\t').Append(shard.Sha256).Append('\n');
        string fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content.ToString())));
        return new() { Kind = "records", Directory = full, Records = manifest.RecordCount, Classes = source.ClassCount, Fingerprint = fingerprint };
    }
}
