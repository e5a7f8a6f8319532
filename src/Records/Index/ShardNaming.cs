using System.Globalization;
using System.Text.RegularExpressions;

namespace Loader.Records.Index;

/// <summary>File names of a record directory: <c>NAME-SSSSS-of-NNNNN.tfrecord</c>, with <c>.index</c> (ours) and
/// <c>.idx</c> (DALI's) beside each shard, and <c>manifest.json</c>.</summary>
public static partial class ShardNaming
{
    public const string ShardExtension = ".tfrecord";
    public const string IndexExtension = ".index";
    public const string DaliIndexExtension = ".idx";
    public const string ManifestFileName = "manifest.json";

    public static string ShardFileName(string name, int shard, int shardCount) =>
        string.Create(CultureInfo.InvariantCulture, $"{name}-{shard:D5}-of-{shardCount:D5}{ShardExtension}");

    public static string IndexPathFor(string shardPath) => StripShardExtension(shardPath) + IndexExtension;

    public static string DaliIndexPathFor(string shardPath) => StripShardExtension(shardPath) + DaliIndexExtension;

    /// <summary>True for files that hold TFRecords: <c>*.tfrecord</c>, <c>*.tfrecords</c>, and TensorFlow's
    /// extension-less <c>NAME-00000-of-01024</c>.</summary>
    public static bool LooksLikeShard(string path)
    {
        string file = Path.GetFileName(path);
        return file.EndsWith(ShardExtension, StringComparison.OrdinalIgnoreCase)
            || file.EndsWith(".tfrecords", StringComparison.OrdinalIgnoreCase)
            || TensorFlowShardName().IsMatch(file);
    }

    /// <summary>Matches our own shard names for data set <paramref name="name"/>, any shard count.</summary>
    public static bool IsOwnShardOf(string fileName, string name) =>
        fileName.StartsWith(name + "-", StringComparison.Ordinal) && OwnShardSuffix().IsMatch(fileName[(name.Length + 1)..]);

    private static string StripShardExtension(string shardPath) =>
        shardPath.EndsWith(ShardExtension, StringComparison.OrdinalIgnoreCase) ? shardPath[..^ShardExtension.Length] : shardPath;

    [GeneratedRegex(@"-\d{5}-of-\d{5}$")]
    private static partial Regex TensorFlowShardName();

    [GeneratedRegex(@"^\d{5}-of-\d{5}\.(tfrecord|index|idx)(\.tmp)?$")]
    private static partial Regex OwnShardSuffix();
}
