namespace Loader.Records;

/// <summary>The version of what this library writes beside the shards (index and manifest). Shards themselves are
/// plain TFRecord and carry no version.</summary>
public static class RecordFormat
{
    public const int Version = 1;
}
