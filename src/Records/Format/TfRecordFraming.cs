using System.Buffers.Binary;

namespace Loader.Records.Format;

/// <summary>
/// TFRecord framing: <c>u64 length (LE) | u32 masked CRC-32C of the 8 length bytes | payload | u32 masked CRC-32C of
/// the payload</c>. TensorFlow's tf.data.TFRecordDataset and DALI's TFRecord reader read exactly this.
/// </summary>
public static class TfRecordFraming
{
    /// <summary>Bytes before the payload: the length and its CRC.</summary>
    public const int HeaderSize = 12;

    /// <summary>Bytes after the payload: its CRC.</summary>
    public const int FooterSize = 4;

    /// <summary>Framing bytes around every payload.</summary>
    public const int Overhead = HeaderSize + FooterSize;

    /// <summary>Largest payload we accept (records hold one image; anything bigger is corruption, not data).</summary>
    public const long MaxPayloadLength = int.MaxValue - Overhead;

    /// <summary>Writes the 12-byte header for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static void WriteHeader(Span<byte> header, long payloadLength)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Mask(Crc32C.Compute(header[..8])));
    }

    /// <summary>Writes the 4-byte footer: the masked CRC of a payload whose plain CRC-32C is <paramref name="payloadCrc"/>.</summary>
    public static void WriteFooter(Span<byte> footer, uint payloadCrc) =>
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Mask(payloadCrc));

    /// <summary>
    /// Frames a payload already placed at <c>record[HeaderSize..^FooterSize]</c>: writes the header and the footer
    /// around it and returns the payload's plain CRC-32C. Lets a caller serialize straight into the record's final
    /// bytes instead of copying the payload into place.
    /// </summary>
    public static uint FrameInPlace(Span<byte> record)
    {
        if (record.Length < Overhead)
        {
            throw new ArgumentException($"A framed record is at least {Overhead} bytes; got {record.Length}.", nameof(record));
        }

        int payloadLength = record.Length - Overhead;
        uint crc = Crc32C.Compute(record.Slice(HeaderSize, payloadLength));
        WriteHeader(record, payloadLength);
        WriteFooter(record[(HeaderSize + payloadLength)..], crc);
        return crc;
    }

    /// <summary>Reads a header; false when the length's CRC does not match (the framing cannot be trusted).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out long payloadLength)
    {
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        payloadLength = (long)Math.Min(length, long.MaxValue);
        return stored == Crc32C.Mask(Crc32C.Compute(header[..8]));
    }

    /// <summary>The plain CRC-32C a footer records.</summary>
    public static uint ReadFooterCrc(ReadOnlySpan<byte> footer) =>
        Crc32C.Unmask(BinaryPrimitives.ReadUInt32LittleEndian(footer));
}
