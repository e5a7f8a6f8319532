using System.Text;
using Loader.Records.Format;

namespace Loader.Records.Tests.Format;

public class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void Compute_KnownVectors(string text, uint expected)
    {
        byte[] data = Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.ComputeScalar(data));
    }

    [Fact]
    public void Compute_Rfc3720Vectors()
    {
        // iSCSI (RFC 3720, B.4) test vectors: 32 zero bytes, 32 0xFF bytes, 0..31 ascending.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
    }

    [Fact]
    public void Compute_HardwarePathMatchesScalarReference_EveryLengthAndAlignment()
    {
        var random = new Random(7);
        byte[] data = new byte[4096 + 64];
        random.NextBytes(data);
        for (int length = 0; length < 300; length++)
        {
            for (int start = 0; start < 9; start++)
            {
                ReadOnlySpan<byte> span = data.AsSpan(start, length);
                Assert.Equal(Crc32C.ComputeScalar(span), Crc32C.Compute(span));
            }
        }

        Assert.Equal(Crc32C.ComputeScalar(data), Crc32C.Compute(data));
    }

    [Fact]
    public void Compute_ThreeLanePathMatchesScalarReference_AroundBlockBoundaries()
    {
        // The hardware path cuts inputs into 6144-byte blocks of three 2048-byte lanes; check lengths on and around
        // one, two and many blocks, at odd alignments, and a record-sized input.
        var random = new Random(11);
        byte[] data = new byte[120_000 + 16];
        random.NextBytes(data);
        foreach (int blocks in new[] { 1, 2, 3, 19 })
        {
            for (int delta = -9; delta <= 9; delta++)
            {
                int length = (blocks * 6144) + delta;
                for (int start = 0; start < 3; start++)
                {
                    ReadOnlySpan<byte> span = data.AsSpan(start, length);
                    Assert.Equal(Crc32C.ComputeScalar(span), Crc32C.Compute(span));
                }
            }
        }

        Assert.Equal(Crc32C.ComputeScalar(data), Crc32C.Compute(data));
        Assert.Equal(Crc32C.ComputeScalar(data.AsSpan(5)), Crc32C.Append(Crc32C.Compute(data.AsSpan(5, 7000)), data.AsSpan(7005)));
    }

    [Fact]
    public void Compute_SmallLanePathMatchesScalarReference_EveryLengthAroundItsBlocks()
    {
        // What is left under a 6144-byte block runs in 384-byte blocks of three 128-byte lanes (records of ~1.3 KB take
        // only this path): every length from under one small block to past four, alone and after large blocks.
        var random = new Random(13);
        byte[] data = new byte[(2 * 6144) + 2000];
        random.NextBytes(data);
        foreach (int large in new[] { 0, 6144, 2 * 6144 })
        {
            for (int length = large + 370; length <= large + 1560; length++)
            {
                for (int start = 0; start < 3; start++)
                {
                    ReadOnlySpan<byte> span = data.AsSpan(start, length);
                    Assert.Equal(Crc32C.ComputeScalar(span), Crc32C.Compute(span));
                }
            }
        }

        // A small block continues the state of a large one and of an Append.
        Assert.Equal(Crc32C.ComputeScalar(data.AsSpan(0, 6144 + 384)), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, 100)), data.AsSpan(100, 6044 + 384)));
    }

    [Fact]
    public void Append_EqualsComputeOfConcatenation()
    {
        byte[] data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 31)).ToArray();
        for (int split = 0; split <= data.Length; split += 37)
        {
            Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }

    [Fact]
    public void Mask_RoundTripsAndMatchesTensorFlowDefinition()
    {
        foreach (uint crc in new uint[] { 0, 1, 0xE3069283, 0xFFFFFFFF, 0x12345678 })
        {
            uint expected = unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
            Assert.Equal(expected, Crc32C.Mask(crc));
            Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
        }
    }
}
