using System.Buffers.Binary;
using Loader.Records.Format;

namespace Loader.Records.Tests.Format;

public class TfRecordFramingTests
{
    /// <summary>Framing in place gives the bytes the spec gives: u64 length, masked CRC of it, payload, masked CRC of the
    /// payload (masking and CRCs computed here with the scalar reference).</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    public void FrameInPlace_MatchesTheSpec(int payloadLength)
    {
        byte[] payload = new byte[payloadLength];
        new Random(payloadLength).NextBytes(payload);
        byte[] record = new byte[payloadLength + TfRecordFraming.Overhead];
        payload.CopyTo(record, TfRecordFraming.HeaderSize);

        uint crc = TfRecordFraming.FrameInPlace(record);

        static uint Masked(uint c) => ((c >> 15) | (c << 17)) + 0xa282ead8;
        Assert.Equal(Crc32C.ComputeScalar(payload), crc);
        Assert.Equal((ulong)payloadLength, BinaryPrimitives.ReadUInt64LittleEndian(record));
        Assert.Equal(Masked(Crc32C.ComputeScalar(record.AsSpan(0, 8))), BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(8)));
        Assert.Equal(payload, record.AsSpan(TfRecordFraming.HeaderSize, payloadLength).ToArray());
        Assert.Equal(Masked(crc), BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(TfRecordFraming.HeaderSize + payloadLength)));
    }

    [Fact]
    public void FrameInPlace_TooShortForTheFraming_Throws() =>
        Assert.Throws<ArgumentException>(() => TfRecordFraming.FrameInPlace(new byte[TfRecordFraming.Overhead - 1]));
}
