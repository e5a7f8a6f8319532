using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loader.Records.Index;

/// <summary>One class in the manifest: 0-based index, synset (the folder or WordNet id), readable name, records.</summary>
public sealed record ManifestClass(int Index, string Synset, string Name, long Count);

/// <summary>One shard in the manifest: file names (relative to the manifest), records, bytes, SHA-256 (lower hex).</summary>
public sealed record ManifestShard(string File, string Index, string DaliIndex, long Records, long Bytes, string Sha256);

/// <summary>How the data set was made: enough to rerun it and to know what was left out.</summary>
public sealed record ManifestSource(string Input, string InputKind, ulong Seed, long InputFiles, long Written,
                                    long Reencoded, long Skipped, int? MaxSide)
{
    /// <summary>make-records <c>--restart-interval</c> (auto, rows or N MCUs); null (absent) when off: JPEGs stored as given.</summary>
    public string? RestartInterval { get; init; }

    /// <summary>Passthrough JPEGs rewritten losslessly with restart intervals (not counted in <see cref="Written"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Transcoded { get; init; }
}

/// <summary>
/// <c>manifest.json</c>: the data set's classes, counts, shards with sizes and content hashes, and the format
/// version. JSON, so a person can read it; written without timestamps so identical runs give identical bytes.
/// </summary>
public sealed record DatasetManifest(int FormatVersion, string Name, long RecordCount, IReadOnlyList<ManifestClass> Classes,
                                     IReadOnlyList<ManifestShard> Shards, ManifestSource? Source)
{
    /// <summary>The stored <c>image/class/label</c> of class 0: 1 for TensorFlow's ImageNet convention (what make-records
    /// writes); 0 for TFRecords indexed in place whose writer stored 0-based labels.</summary>
    public int LabelBase { get; init; } = 1;

    public string ToJson() => JsonSerializer.Serialize(this, ManifestJsonContext.Default.DatasetManifest) + "\n";

    public static DatasetManifest FromJson(string json, string path)
    {
        DatasetManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, ManifestJsonContext.Default.DatasetManifest);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid manifest ({e.Message})", e);
        }

        if (manifest is null || manifest.Shards is null || manifest.Classes is null)
        {
            throw new InvalidDataException($"{path}: not a valid manifest (missing shards or classes)");
        }

        if (manifest.FormatVersion > RecordFormat.Version)
        {
            throw new InvalidDataException(
                $"{path}: manifest format version {manifest.FormatVersion} is newer than this reader ({RecordFormat.Version})");
        }

        return manifest;
    }

    public static DatasetManifest Read(string path) => FromJson(File.ReadAllText(path), path);

    /// <summary>Writes under a temporary name, then renames: a reader never sees half a manifest.</summary>
    public void Write(string path)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, ToJson());
        File.Move(temporary, path, overwrite: true);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
                             DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DatasetManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
