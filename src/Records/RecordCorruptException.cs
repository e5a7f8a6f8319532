namespace Loader.Records;

/// <summary>
/// A shard, or one record in it, is not what the format or the index promises: a CRC mismatch, a truncated file,
/// a length that disagrees with the index, a payload that is not a tf.train.Example. The message names the shard,
/// the record and, when known, the source file.
/// </summary>
public sealed class RecordCorruptException : IOException
{
    public RecordCorruptException()
        : this("unknown shard", -1, "corrupt record")
    {
    }

    public RecordCorruptException(string message)
        : this("unknown shard", -1, message)
    {
    }

    public RecordCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
        ShardPath = "unknown shard";
        RecordInShard = -1;
        Problem = message;
    }

    /// <param name="shardPath">The shard file.</param>
    /// <param name="recordInShard">The record's position in the shard; -1 for a problem with the whole shard.</param>
    /// <param name="problem">What is wrong, in words.</param>
    /// <param name="fileName">The record's source file, when known.</param>
    public RecordCorruptException(string shardPath, int recordInShard, string problem, string? fileName = null)
        : base(FormatMessage(shardPath, recordInShard, problem, fileName))
    {
        ShardPath = shardPath;
        RecordInShard = recordInShard;
        Problem = problem;
        FileName = fileName;
    }

    public string ShardPath { get; }

    /// <summary>The record's position in its shard; -1 when the problem concerns the whole shard.</summary>
    public int RecordInShard { get; }

    public string Problem { get; }

    public string? FileName { get; }

    private static string FormatMessage(string shardPath, int record, string problem, string? fileName)
    {
        string where = record >= 0 ? $"{shardPath}, record {record}" : shardPath;
        if (fileName is not null)
        {
            where += $" ({fileName})";
        }

        return $"{where}: {problem}";
    }
}
