using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;

namespace Loader.Records.Format;

/// <summary>
/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum TFRecord framing uses.
/// System.IO.Hashing.Crc32 is the IEEE polynomial, not this one. The fast path uses the CPU's CRC32C instruction
/// (SSE4.2 on x64, the CRC extension on Arm64), eight bytes per step; the table path is the portable fallback and
/// the reference the tests check the hardware path against.
/// </summary>
/// <remarks>
/// The x64 instruction takes three cycles but can start one per cycle, so one dependent chain runs at a third of the
/// speed the CPU can give. Long inputs are therefore cut into blocks of three lanes, each lane's CRC computed in an
/// interleaved loop, and the lanes joined with <see cref="ShiftLane"/> (what running the CRC over a lane of zero
/// bytes does to a state: linear, so four table lookups). Records are ~100 KB JPEGs: this is the path they take.
/// What is left under one such block (and small records, ~1.3 KB in the 1M-record benchmark) runs the same way in
/// blocks of three 128-byte lanes: a 1.3 KB record took ~125 ns as one chain, ~85 ns so (harness, warm cache).
/// </remarks>
public static class Crc32C
{
    private const uint ReflectedPolynomial = 0x82F63B78u;
    private const uint MaskDelta = 0xa282ead8u;

    /// <summary>Bytes per lane of the three-lane x64 loop (a multiple of 8).</summary>
    private const int LaneSize = 2048;

    /// <summary>Bytes per lane for what is left under one block of <see cref="LaneSize"/> lanes: small records (~1.3 KB
    /// in the 1M-record benchmark) otherwise ran as one dependent chain, at a third of the instruction's rate.</summary>
    private const int SmallLaneSize = 128;

    private static readonly uint[] s_table = BuildTable();
    private static readonly uint[] s_laneShift = BuildLaneShiftTable(LaneSize);
    private static readonly uint[] s_smallLaneShift = BuildLaneShiftTable(SmallLaneSize);

    /// <summary>CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC-32C over more data: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        if (Sse42.X64.IsSupported)
        {
            state = UpdateSse42(state, data);
        }
        else if (ArmCrc32.Arm64.IsSupported)
        {
            state = UpdateArm64(state, data);
        }
        else
        {
            state = UpdateTable(state, data);
        }

        return ~state;
    }

    /// <summary>The table-driven implementation, one byte per step: the reference for the hardware path.</summary>
    public static uint ComputeScalar(ReadOnlySpan<byte> data) => ~UpdateTable(~0u, data);

    /// <summary>TFRecord's masked CRC: rotate right by 15 and add a constant, so a CRC of CRCs is not trivial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    /// <summary>Inverse of <see cref="Mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Unmask(uint masked)
    {
        uint rotated = masked - MaskDelta;
        return (rotated >> 17) | (rotated << 15);
    }

    private static uint UpdateSse42(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 3 * LaneSize)
        {
            state = UpdateSse42ThreeLanes(state, data[..(3 * LaneSize)], s_laneShift);
            data = data[(3 * LaneSize)..];
        }

        while (data.Length >= 3 * SmallLaneSize)
        {
            state = UpdateSse42ThreeLanes(state, data[..(3 * SmallLaneSize)], s_smallLaneShift);
            data = data[(3 * SmallLaneSize)..];
        }

        return UpdateSse42OneLane(state, data);
    }

    /// <summary>One block of three lanes (a third of <paramref name="block"/> each): lane a continues
    /// <paramref name="state"/>, lanes b and c start from 0, and <c>state(abc) = shift(shift(a) ^ b) ^ c</c> because the
    /// CRC register is linear in its state; <paramref name="shift"/> is the table for that lane size.</summary>
    private static uint UpdateSse42ThreeLanes(uint state, ReadOnlySpan<byte> block, uint[] shift)
    {
        int laneSize = block.Length / 3;
        ReadOnlySpan<byte> laneA = block[..laneSize];
        ReadOnlySpan<byte> laneB = block.Slice(laneSize, laneSize);
        ReadOnlySpan<byte> laneC = block.Slice(2 * laneSize, laneSize);
        ulong a = state, b = 0, c = 0;
        for (int i = 0; i < laneSize; i += 8)
        {
            a = Sse42.X64.Crc32(a, BinaryPrimitives.ReadUInt64LittleEndian(laneA[i..]));
            b = Sse42.X64.Crc32(b, BinaryPrimitives.ReadUInt64LittleEndian(laneB[i..]));
            c = Sse42.X64.Crc32(c, BinaryPrimitives.ReadUInt64LittleEndian(laneC[i..]));
        }

        return ShiftLane(ShiftLane((uint)a, shift) ^ (uint)b, shift) ^ (uint)c;
    }

    /// <summary>The state after running <paramref name="state"/> over a lane of zero bytes (<paramref name="t"/>: the
    /// table of that lane size).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ShiftLane(uint state, uint[] t)
    {
        return t[state & 0xFF] ^ t[256 + ((state >> 8) & 0xFF)] ^ t[512 + ((state >> 16) & 0xFF)] ^ t[768 + (state >> 24)];
    }

    private static uint UpdateSse42OneLane(uint state, ReadOnlySpan<byte> data)
    {
        ulong wide = state;
        while (data.Length >= 8)
        {
            wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        state = (uint)wide;
        foreach (byte b in data)
        {
            state = Sse42.Crc32(state, b);
        }

        return state;
    }

    private static uint UpdateArm64(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = ArmCrc32.Arm64.ComputeCrc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            state = ArmCrc32.ComputeCrc32C(state, b);
        }

        return state;
    }

    private static uint UpdateTable(uint state, ReadOnlySpan<byte> data)
    {
        uint[] table = s_table;
        foreach (byte b in data)
        {
            state = table[(state ^ b) & 0xFF] ^ (state >> 8);
        }

        return state;
    }

    /// <summary>Four 256-entry tables, entry [256k + v] = the state <c>v &lt;&lt; 8k</c> becomes after a lane of
    /// <paramref name="laneSize"/> zeros, built from the 32 single-bit states with the portable table path (the shift
    /// is linear: XOR of bit images).</summary>
    private static uint[] BuildLaneShiftTable(int laneSize)
    {
        Span<uint> bitImage = stackalloc uint[32];
        byte[] zeros = new byte[laneSize];
        for (int bit = 0; bit < 32; bit++)
        {
            bitImage[bit] = UpdateTable(1u << bit, zeros);
        }

        var table = new uint[4 * 256];
        for (int k = 0; k < 4; k++)
        {
            for (int v = 0; v < 256; v++)
            {
                uint image = 0;
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((v & (1 << bit)) != 0)
                    {
                        image ^= bitImage[(8 * k) + bit];
                    }
                }

                table[(256 * k) + v] = image;
            }
        }

        return table;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ ReflectedPolynomial : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
