namespace Loader.Records;

/// <summary>
/// A record set cannot be used as it is: the manifest or an index is malformed, lies about the shards, or the set is
/// incomplete. Thrown when the set is opened, before any sample is read. The message is one line naming the file,
/// the field or record, and the problem: <c>PATH: FIELD: PROBLEM</c> or <c>PATH, record N: PROBLEM</c>.
/// </summary>
public sealed class RecordFormatException : IOException
{
    public RecordFormatException()
        : this("unknown file", null, -1, "unusable record set")
    {
    }

    public RecordFormatException(string message)
        : this("unknown file", null, -1, message)
    {
    }

    public RecordFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        FilePath = "unknown file";
        Record = -1;
        Problem = message;
    }

    /// <param name="filePath">The manifest, index, shard or folder at fault.</param>
    /// <param name="field">The manifest or index field at fault (<c>shards[3].file</c>, <c>length</c>), or null.</param>
    /// <param name="record">The record's position in its shard, or -1.</param>
    /// <param name="problem">What is wrong, in words.</param>
    public RecordFormatException(string filePath, string? field, int record, string problem)
        : base(FormatMessage(filePath, field, record, problem))
    {
        FilePath = filePath;
        Field = field;
        Record = record;
        Problem = problem;
    }

    public string FilePath { get; }

    public string? Field { get; }

    /// <summary>The record's position in its shard; -1 when the problem is not one record's.</summary>
    public int Record { get; }

    public string Problem { get; }

    private static string FormatMessage(string filePath, string? field, int record, string problem)
    {
        string where = record >= 0 ? $"{filePath}, record {record}" : filePath;
        return field is null ? $"{where}: {problem}" : $"{where}: {field}: {problem}";
    }
}
