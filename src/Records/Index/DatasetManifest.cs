using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loader.Records.Index;

/// <summary>One class in the manifest: 0-based index, synset (the folder or WordNet id), readable name, records.</summary>
public sealed record ManifestClass(int Index, string Synset, string Name, long Count);

/// <summary>One shard in the manifest: file names (relative to the manifest), records, bytes, SHA-256 (lower hex).</summary>
public sealed record ManifestShard(string File, string Index, string DaliIndex, long Records, long Bytes, string Sha256);

/// <summary>How the data set was made: enough to rerun it and to know what was left out.</summary>
public sealed record ManifestSource(string Input, string InputKind, ulong Seed, long InputFiles, long Written,
                                    long Reencoded, long Skipped, int? MaxSide = null)
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
                                     IReadOnlyList<ManifestShard> Shards, ManifestSource? Source = null)
{
    /// <summary>The stored <c>image/class/label</c> of class 0: 1 for TensorFlow's ImageNet convention (what make-records
    /// writes); 0 for TFRecords indexed in place whose writer stored 0-based labels.</summary>
    public int LabelBase { get; init; } = 1;

    /// <summary>The most classes a manifest may declare (ImageNet-21k has 21,841): bounds what a label may allocate.</summary>
    public const int MaxClasses = 1 << 20;

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
            // System.Text.Json names the JSON path ($.shards[0].records) in its message.
            throw new RecordFormatException(path, null, -1, $"not a valid manifest ({e.Message.ReplaceLineEndings(" ")})");
        }

        if (manifest is null)
        {
            throw new RecordFormatException(path, null, -1, "not a valid manifest (the file holds JSON null)");
        }

        manifest.Validate(path);
        return manifest;
    }

    /// <summary>
    /// Checks every field's presence, type and range, and that the fields agree with each other (counts add up,
    /// class indexes are 0..n-1, shard files are plain names in this folder, numbered shards are all listed). JSON
    /// gives null for a missing or null field whatever the C# type says, so nothing downstream may assume one.
    /// </summary>
    private void Validate(string path)
    {
        [DoesNotReturn]
        void Fail(string field, string problem) => throw new RecordFormatException(path, field, -1, problem);

        if (FormatVersion is < 1 or > RecordFormat.Version)
        {
            Fail("formatVersion", FormatVersion > RecordFormat.Version
                ? $"{FormatVersion} is newer than this reader ({RecordFormat.Version})"
                : $"{FormatVersion} is not a format version (1..{RecordFormat.Version})");
        }

        if (Name is null)
        {
            Fail("name", "missing or null");
        }

        if (LabelBase is not (0 or 1))
        {
            Fail("labelBase", $"{LabelBase}: must be 0 or 1");
        }

        if (RecordCount < 0)
        {
            Fail("recordCount", $"{RecordCount} is negative");
        }

        if (Classes is null)
        {
            Fail("classes", "missing or null");
        }

        if (Classes!.Count > MaxClasses)
        {
            Fail("classes", $"{Classes.Count} classes is more than {MaxClasses}");
        }

        long classed = 0;
        for (int c = 0; c < Classes.Count; c++)
        {
            ManifestClass? cls = Classes[c];
            string field = $"classes[{c}]";
            if (cls is null)
            {
                Fail(field, "null");
            }

            if (cls!.Index != c)
            {
                Fail($"{field}.index", $"{cls.Index}: class {c} must have index {c}");
            }

            if (cls.Synset is null || cls.Name is null)
            {
                Fail(cls.Synset is null ? $"{field}.synset" : $"{field}.name", "missing or null");
            }

            if (cls.Count < 0)
            {
                Fail($"{field}.count", $"{cls.Count} is negative");
            }

            classed += cls.Count;
        }

        if (Shards is null)
        {
            Fail("shards", "missing or null");
        }

        long records = 0;
        var files = new HashSet<string>(StringComparer.Ordinal);
        for (int s = 0; s < Shards!.Count; s++)
        {
            ManifestShard? shard = Shards[s];
            string field = $"shards[{s}]";
            if (shard is null)
            {
                Fail(field, "null");
            }

            CheckFileName(shard!.File, $"{field}.file");
            CheckFileName(shard.Index, $"{field}.index");
            CheckFileName(shard.DaliIndex, $"{field}.daliIndex");
            if (!files.Add(shard.File))
            {
                Fail($"{field}.file", $"\"{shard.File}\" is listed twice");
            }

            if (shard.Records < 0)
            {
                Fail($"{field}.records", $"{shard.Records} is negative");
            }

            if (shard.Bytes < 0)
            {
                Fail($"{field}.bytes", $"{shard.Bytes} is negative");
            }

            if (shard.Sha256 is null || shard.Sha256.Length != 64 || !shard.Sha256.All(char.IsAsciiHexDigit))
            {
                Fail($"{field}.sha256", shard.Sha256 is null ? "missing or null" : $"\"{shard.Sha256}\" is not 64 hex digits");
            }

            records += shard.Records;
        }

        if (records != RecordCount)
        {
            Fail("recordCount", $"{RecordCount}, but the shards list {records} records");
        }

        if (classed > RecordCount)
        {
            Fail("classes", $"the class counts add up to {classed}, more than the {RecordCount} records");
        }

        if (ShardNaming.NumberingProblem(Shards.Select(s => s.File)) is { } numbering)
        {
            Fail("shards", numbering);
        }

        void CheckFileName(string? name, string field)
        {
            if (string.IsNullOrEmpty(name))
            {
                Fail(field, "missing, null or empty");
            }

            // A file of this folder: a manifest must not point readers at other places.
            if (name != Path.GetFileName(name) || name is "." or ".." || name!.Contains('\\', StringComparison.Ordinal))
            {
                Fail(field, $"\"{name}\" is not a plain file name");
            }
        }
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

// Missing and null fields ("file": null was a NullReferenceException in every reader) are found by Validate, which
// names the field; source and maxSide, written only when set, default to null.
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
                             DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DatasetManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
