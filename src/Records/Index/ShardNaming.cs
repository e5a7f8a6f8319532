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

    /// <summary>make-records' work folder in its output. make-records always ends with a manifest, so a folder that
    /// has this and no manifest is a run that did not finish (killed, full disk): never a whole set.</summary>
    public const string WorkFolderName = ".make-records";

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

    /// <summary>
    /// Shards named <c>NAME-SSSSS-of-NNNNN</c> say how many there are: returns what is missing when, for some NAME and
    /// N, not every number 0..N-1 is among <paramref name="fileNames"/> (or one is out of range); null when every
    /// numbered set is whole, or when the names carry no numbering (<see cref="AllNumbered"/> tells which).
    /// </summary>
    public static string? NumberingProblem(IEnumerable<string> fileNames)
    {
        var sets = new Dictionary<(string Name, int Of), SortedSet<int>>();
        foreach (string file in fileNames)
        {
            if (TryParseNumbered(file, out string name, out int shard, out int of))
            {
                if (!sets.TryGetValue((name, of), out SortedSet<int>? numbers))
                {
                    sets[(name, of)] = numbers = [];
                }

                numbers.Add(shard);
            }
        }

        foreach (((string name, int of), SortedSet<int> numbers) in sets.OrderBy(p => p.Key.Name, StringComparer.Ordinal))
        {
            if (numbers.Max >= of)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{name}: shard {numbers.Max:D5} of a set of {of:D5} (numbers run 0..{of - 1})");
            }

            if (numbers.Count != of)
            {
                int[] missing = [.. Enumerable.Range(0, of).Where(n => !numbers.Contains(n))];
                string shown = string.Join(", ", missing.Take(5).Select(n => n.ToString("D5", CultureInfo.InvariantCulture)));
                return string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {numbers.Count} of {of} numbered shards (-of-{of:D5}); missing {shown}{(missing.Length > 5 ? $" and {missing.Length - 5} more" : "")}");
            }
        }

        return null;
    }

    /// <summary>True when every name is numbered (<c>NAME-SSSSS-of-NNNNN</c>): then the names alone say whether the set is whole.</summary>
    public static bool AllNumbered(IReadOnlyCollection<string> fileNames) =>
        fileNames.Count > 0 && fileNames.All(f => TryParseNumbered(f, out _, out _, out _));

    private static bool TryParseNumbered(string fileName, out string name, out int shard, out int of)
    {
        Match match = NumberedShard().Match(Path.GetFileName(fileName));
        name = match.Success ? match.Groups[1].Value : "";
        shard = match.Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : -1;
        of = match.Success ? int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture) : -1;
        return match.Success;
    }

    private static string StripShardExtension(string shardPath) =>
        shardPath.EndsWith(ShardExtension, StringComparison.OrdinalIgnoreCase) ? shardPath[..^ShardExtension.Length] : shardPath;

    [GeneratedRegex(@"^(.*)-(\d{5})-of-(\d{5})(\.tfrecords?)?$", RegexOptions.IgnoreCase)]
    private static partial Regex NumberedShard();

    [GeneratedRegex(@"-\d{5}-of-\d{5}$")]
    private static partial Regex TensorFlowShardName();

    [GeneratedRegex(@"^\d{5}-of-\d{5}\.(tfrecord|index|idx)(\.tmp)?$")]
    private static partial Regex OwnShardSuffix();
}
