using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using K4os.Compression.LZ4;
using Loader.Records.Protos;

namespace Loader.Records.Index;

/// <summary>
/// The index of one shard: per record its offset, payload length, CRC-32C, 0-based label, width and height, in
/// shard order. On disk (<c>.index</c>): the 8-byte magic <c>LDRIDX01</c>, the uncompressed length (u32 LE), the
/// CRC-32C of the uncompressed bytes (u32 LE), then the <see cref="ShardIndexProto"/> message compressed with LZ4
/// (block format). Beside it, the same offsets as
/// DALI's text index (<c>.idx</c>, one "offset length" line per record, length counting the framing).
/// </summary>
public sealed class ShardIndex
{
    private const int HeaderSize = 16;

    private static ReadOnlySpan<byte> Magic => "LDRIDX01"u8;

    public ShardIndex(string shardFile, long shardBytes, long[] offsets, int[] lengths, uint[] crcs, int[] labels,
                      int[] widths, int[] heights)
    {
        int n = offsets.Length;
        if (lengths.Length != n || crcs.Length != n || labels.Length != n || widths.Length != n || heights.Length != n)
        {
            throw new ArgumentException("every column of a shard index must have one value per record");
        }

        ShardFile = shardFile;
        ShardBytes = shardBytes;
        Offsets = offsets;
        Lengths = lengths;
        Crcs = crcs;
        Labels = labels;
        Widths = widths;
        Heights = heights;
    }

    public string ShardFile { get; }

    public long ShardBytes { get; }

    public int Count => Offsets.Length;

    public long[] Offsets { get; }

    public int[] Lengths { get; }

    public uint[] Crcs { get; }

    public int[] Labels { get; }

    public int[] Widths { get; }

    public int[] Heights { get; }

    /// <summary>
    /// The first way in which this index cannot describe a shard of <paramref name="shardBytes"/> bytes whose labels
    /// are 0..<paramref name="classCount"/>-1, or null when it can: every record starts at or after the end of the one
    /// before it (offsets increasing, no overlap), lies inside the file, has a positive length, a label in range and a
    /// size that is not negative. O(records), no allocation: cheap enough for every open.
    /// </summary>
    public IndexProblem? FindProblem(long shardBytes, int classCount)
    {
        if (ShardBytes != shardBytes)
        {
            return new IndexProblem(-1, "shardBytes", string.Create(CultureInfo.InvariantCulture,
                $"the index was written for {ShardBytes} bytes, the shard has {shardBytes}"));
        }

        long end = 0;
        for (int r = 0; r < Offsets.Length; r++)
        {
            long offset = Offsets[r];
            int length = Lengths[r];
            if (length <= 0)
            {
                return new IndexProblem(r, "length", string.Create(CultureInfo.InvariantCulture, $"{length}: must be positive"));
            }

            if (offset < end)
            {
                return new IndexProblem(r, "offset", r == 0
                    ? $"{offset} is negative"
                    : $"{offset}: before the end of record {r - 1} ({end}); offsets must increase without overlap");
            }

            long recordEnd = offset + length + (long)Format.TfRecordFraming.Overhead;
            if (recordEnd > shardBytes)
            {
                return new IndexProblem(r, "length", string.Create(CultureInfo.InvariantCulture,
                    $"the record at offset {offset} with {length} payload bytes ends at {recordEnd}, past the end of the shard ({shardBytes} bytes)"));
            }

            if ((uint)Labels[r] >= (uint)classCount)
            {
                return new IndexProblem(r, "label", Labels[r] < 0
                    ? $"{Labels[r]}: the record has no usable label (0-based labels must be 0..{classCount - 1})"
                    : $"{Labels[r]} is not a class of this data set (0..{classCount - 1})");
            }

            if (Widths[r] < 0 || Heights[r] < 0)
            {
                return new IndexProblem(r, "width/height", string.Create(CultureInfo.InvariantCulture, $"{Widths[r]}x{Heights[r]} is negative"));
            }

            end = recordEnd;
        }

        return null;
    }

    /// <summary>Throws a <see cref="RecordFormatException"/> naming <paramref name="indexPath"/> when
    /// <see cref="FindProblem"/> finds one.</summary>
    public void Validate(string indexPath, long shardBytes, int classCount)
    {
        if (FindProblem(shardBytes, classCount) is { } problem)
        {
            throw new RecordFormatException(indexPath, problem.Field, problem.Record, problem.Problem);
        }
    }

    public byte[] ToBytes()
    {
        var proto = new ShardIndexProto
        {
            FormatVersion = RecordFormat.Version,
            ShardFile = ShardFile,
            ShardBytes = ShardBytes,
        };
        proto.Offset.AddRange(Offsets);
        proto.Length.AddRange(Lengths);
        proto.Crc.AddRange(Crcs);
        proto.Label.AddRange(Labels);
        proto.Width.AddRange(Widths);
        proto.Height.AddRange(Heights);
        byte[] raw = proto.ToByteArray();
        byte[] compressed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        int written = LZ4Codec.Encode(raw, compressed, LZ4Level.L00_FAST);
        byte[] file = new byte[HeaderSize + written];
        Magic.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(8), raw.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), Format.Crc32C.Compute(raw));
        compressed.AsSpan(0, written).CopyTo(file.AsSpan(HeaderSize));
        return file;
    }

    /// <summary>Parses an index file's bytes; <paramref name="path"/> only names the file in errors.</summary>
    public static ShardIndex FromBytes(ReadOnlySpan<byte> file, string path)
    {
        if (file.Length < HeaderSize || !file[..Magic.Length].SequenceEqual(Magic))
        {
            throw new RecordFormatException(path, null, -1, "not a shard index (bad magic)");
        }

        int rawLength = BinaryPrimitives.ReadInt32LittleEndian(file[8..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(file[12..]);
        // An LZ4 block expands at most 255:1 (a match grows by at most 255 bytes per input byte), so a length the
        // compressed bytes cannot reach is corruption: refuse it before allocating it.
        long compressedLength = file.Length - HeaderSize;
        if (rawLength < 0 || rawLength > 1 << 30 || rawLength > compressedLength * 255)
        {
            throw new RecordFormatException(path, null, -1, $"corrupt shard index (length {rawLength})");
        }

        byte[] raw = new byte[rawLength];
        int decoded = LZ4Codec.Decode(file[HeaderSize..], raw);
        if (decoded != rawLength)
        {
            throw new RecordFormatException(path, null, -1, $"corrupt shard index (LZ4 block does not decode to {rawLength} bytes)");
        }

        if (Format.Crc32C.Compute(raw) != crc)
        {
            throw new RecordFormatException(path, null, -1, "corrupt shard index (CRC-32C mismatch)");
        }

        ShardIndexProto proto;
        try
        {
            proto = ShardIndexProto.Parser.ParseFrom(raw);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RecordFormatException(path, null, -1, $"corrupt shard index ({e.Message})");
        }

        if (proto.FormatVersion > RecordFormat.Version)
        {
            throw new RecordFormatException(path, "formatVersion", -1,
                $"index format version {proto.FormatVersion} is newer than this reader ({RecordFormat.Version})");
        }

        try
        {
            return new ShardIndex(proto.ShardFile, proto.ShardBytes, [.. proto.Offset], [.. proto.Length], [.. proto.Crc],
                                  [.. proto.Label], [.. proto.Width], [.. proto.Height]);
        }
        catch (ArgumentException e)
        {
            throw new RecordFormatException(path, null, -1, $"corrupt shard index ({e.Message})");
        }
    }

    public static ShardIndex Read(string path) => FromBytes(File.ReadAllBytes(path), path);

    /// <summary>DALI's tfrecord2idx text: "offset length\n" per record, length including the 16 framing bytes.</summary>
    public string ToDaliIndexText()
    {
        var text = new StringBuilder(Count * 16);
        for (int i = 0; i < Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Offsets[i]} {Lengths[i] + (long)Format.TfRecordFraming.Overhead}\n");
        }

        return text.ToString();
    }

    /// <summary>Parses DALI's text index into (offset, total record length) pairs.</summary>
    public static List<(long Offset, long Length)> ParseDaliIndex(string text, string path)
    {
        var entries = new List<(long, long)>();
        int lineNumber = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long offset)
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long length))
            {
                throw new InvalidDataException($"{path}: line {lineNumber} is not \"offset length\"");
            }

            entries.Add((offset, length));
        }

        return entries;
    }
}

/// <summary>What is wrong with an index: the record (-1 for the whole index), the field, the problem in words.</summary>
public readonly record struct IndexProblem(int Record, string Field, string Problem);
