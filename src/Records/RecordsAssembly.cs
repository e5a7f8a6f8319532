namespace Loader.Records;

/// <summary>Marker for the records library: the shard format, writer, reader and index.</summary>
public static class RecordsAssembly
{
    /// <summary>The version of the on-disk format this library writes (index and manifest).</summary>
    public const int FormatVersion = 1;
}
