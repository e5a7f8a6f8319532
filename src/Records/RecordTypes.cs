namespace Loader.Records;

/// <summary>One class of a data set. <paramref name="Index"/> is 0-based (the label our API uses).</summary>
public sealed record ClassInfo(int Index, string Synset, string Name);

/// <summary>
/// Where one record lives. <paramref name="Offset"/>: byte offset of the record's 8-byte length field in the shard;
/// <paramref name="Length"/>: payload (tf.train.Example) bytes, the whole record being <c>Length + 16</c>;
/// <paramref name="Crc"/>: plain (unmasked) CRC-32C of the payload; <paramref name="Label"/>: 0-based.
/// </summary>
public readonly record struct RecordEntry(int Shard, int RecordInShard, long Offset, int Length, uint Crc,
                                          int Label, int Width, int Height);

/// <summary>Where the encoded image sits in the caller's buffer: <c>buffer[Offset..(Offset + Length)]</c>.</summary>
public readonly record struct EncodedImage(int Offset, int Length, int Label);

/// <summary>Options for <see cref="RecordDataset.Open"/>.</summary>
/// <param name="VerifyCrc">Check both CRCs of every record read (hardware CRC-32C: a few microseconds per image).</param>
/// <param name="AllowPartial">Take what is there: open a set without a manifest whose shard names do not prove it
/// whole, and leave out the shards that are missing or disagree with the manifest, instead of refusing the set. What
/// was left out is in <see cref="RecordDataset.LeftOut"/>, for the caller to report loudly.</param>
/// <param name="MaxOpenShards">Shard files open at once at most (opened on first use, least recently used closed
/// first), so any shard count works under a low <c>ulimit -n</c>. A handle closed while another thread is reading
/// with it stays open until that read ends, so for a moment there can be one more per concurrent reader.</param>
public sealed record RecordReadOptions(bool VerifyCrc = true, bool AllowPartial = false,
                                       int MaxOpenShards = RecordReadOptions.DefaultMaxOpenShards)
{
    /// <summary>See <see cref="MaxOpenShards"/>: well under the usual 1024-descriptor limit.</summary>
    public const int DefaultMaxOpenShards = 128;
}
