using System.Buffers.Binary;

namespace Loader.Augment.Jpeg;

/// <summary>
/// The layout of a JPEG up to its first scan's entropy-coded data, as the splicer needs it: frame size, MCU size,
/// restart interval, and where the frame header, the scan header and the entropy-coded data begin. Read by walking
/// the marker segments (no pixel is decoded, nothing is allocated).
/// </summary>
/// <param name="Width">Frame width in pixels.</param>
/// <param name="Height">Frame height in pixels.</param>
/// <param name="Components">Components in the frame.</param>
/// <param name="McuWidth">MCU width in pixels: 8 x the largest horizontal sampling factor; 8 for a one-component scan.</param>
/// <param name="McuHeight">MCU height in pixels.</param>
/// <param name="RestartInterval">MCUs per restart interval (DRI); 0 when the file has none.</param>
/// <param name="Spliceable">One baseline (SOF0/SOF1, 8-bit, Huffman) scan holding every component: the only kind
/// whose restart intervals can be cut out and reassembled.</param>
/// <param name="MaxHorizontalSampling">The frame's largest horizontal sampling factor (1 for grayscale).</param>
/// <param name="MaxVerticalSampling">The frame's largest vertical sampling factor (1 for grayscale).</param>
/// <param name="Sampling">Each component's sampling factors (h &lt;&lt; 4 | v), one byte per component from the low
/// byte up, for the first four components.</param>
/// <param name="SofOffset">Offset of the SOF marker (its 0xFF).</param>
/// <param name="ScanOffset">Offset of the SOS marker.</param>
/// <param name="EntropyOffset">Offset of the first byte of entropy-coded data (just after the SOS segment).</param>
public readonly record struct JpegFrame(int Width, int Height, int Components, int McuWidth, int McuHeight, int RestartInterval,
    bool Spliceable, int MaxHorizontalSampling, int MaxVerticalSampling, uint Sampling, int SofOffset, int ScanOffset, int EntropyOffset)
{
    private const byte Marker = 0xFF;

    /// <summary>MCUs per MCU row.</summary>
    public int McuColumns => (Width + McuWidth - 1) / McuWidth;

    /// <summary>MCU rows.</summary>
    public int McuRows => (Height + McuHeight - 1) / McuHeight;

    /// <summary>
    /// Whether a pixel's colour, decoded by libjpeg(-turbo) at scaleNumerator/8, depends on the chroma sample next to its
    /// own across (<c>Horizontal</c>) or down (<c>Vertical</c>) the image: true only where libjpeg's fancy upsampling runs
    /// along that axis, which blends each sample with its neighbour (a triangle filter; jdsample.c: h2v1 across, h1v2
    /// down, h2v2 both). Its rules: each component's IDCT is first scaled up by powers of two while that divides the
    /// sampling ratio (jdmaster.c), so chroma at 1/2 to 1/8 scale is often decoded at the luma's resolution and needs no
    /// upsampling; there is no fancy upsampling at 1/8 (no context rows then); other ratios (4:1:1's 4x) replicate
    /// samples, which reads no neighbour. Grayscale never upsamples. Unknown factors: both, the safe answer.
    /// </summary>
    public (bool Horizontal, bool Vertical) UpsamplingReach(int scaleNumerator)
    {
        if (Components == 1)
        {
            return (false, false);
        }

        var fancy = scaleNumerator > 1;
        bool horizontal = false, vertical = false;
        for (var c = 0; c < Math.Min(Components, 4); c++)
        {
            var sampling = (int)(Sampling >> (8 * c)) & 0xFF;
            int h = sampling >> 4, v = sampling & 15;
            if (h == 0 || v == 0)
            {
                return (true, true); // Nonsense factors: assume the worst.
            }

            var size = scaleNumerator;
            while (size < 8 && (MaxHorizontalSampling * scaleNumerator) % (h * size * 2) == 0
                   && (MaxVerticalSampling * scaleNumerator) % (v * size * 2) == 0)
            {
                size *= 2;
            }

            // libjpeg's "input group": samples per max-factor pixels (jinit_upsampler).
            var (acrossIn, downIn) = (h * size, v * size);
            var (acrossOut, downOut) = (MaxHorizontalSampling * scaleNumerator, MaxVerticalSampling * scaleNumerator);
            if (acrossIn == acrossOut && downIn == downOut)
            {
                continue; // Full size.
            }

            if (acrossOut % acrossIn != 0 || downOut % downIn != 0)
            {
                return (true, true); // A fractional ratio libjpeg refuses: whatever happens, be safe.
            }

            var twiceAcross = acrossIn * 2 == acrossOut;
            var twiceDown = downIn * 2 == downOut;
            var sameAcross = acrossIn == acrossOut;
            var sameDown = downIn == downOut;
            if (fancy && twiceAcross && (sameDown || twiceDown))
            {
                horizontal = true; // h2v1 or h2v2 fancy
            }

            if (fancy && twiceDown && (sameAcross || twiceAcross))
            {
                vertical = true; // h1v2 or h2v2 fancy
            }
        }

        return (horizontal, vertical);
    }

    /// <summary>Reads the headers up to the first SOS. False when the bytes are not a JPEG with a frame and a scan.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out JpegFrame frame)
    {
        frame = default;
        if (data.Length < 4 || data[0] != Marker || data[1] != 0xD8)
        {
            return false;
        }

        int width = 0, height = 0, components = 0, maxH = 1, maxV = 1, interval = 0, sofOffset = -1;
        uint packed = 0;
        var baseline = false;
        var position = 2;
        while (TryNextSegment(data, ref position, out var marker, out var markerOffset, out var segment))
        {
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (sofOffset >= 0 || segment.Length < 6)
                {
                    return false;
                }

                sofOffset = markerOffset;
                baseline = marker is 0xC0 or 0xC1 && segment[0] == 8;
                height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                components = segment[5];
                if (segment.Length < 6 + (3 * components))
                {
                    return false;
                }

                for (var c = 0; c < components; c++)
                {
                    var sampling = segment[6 + (3 * c) + 1];
                    if (c < 4)
                    {
                        packed |= (uint)sampling << (8 * c);
                    }

                    maxH = Math.Max(maxH, sampling >> 4);
                    maxV = Math.Max(maxV, sampling & 15);
                }
            }
            else if (marker == 0xDD && segment.Length >= 2)
            {
                interval = BinaryPrimitives.ReadUInt16BigEndian(segment);
            }
            else if (marker == 0xDA)
            {
                if (sofOffset < 0 || width == 0 || height == 0 || components == 0 || segment.Length < 1)
                {
                    return false;
                }

                int scanComponents = segment[0];
                if (components == 1)
                {
                    maxH = 1;
                    maxV = 1;
                }

                // A one-component scan's MCU is one block, whatever the sampling factors say.
                var oneBlock = scanComponents == 1;
                frame = new JpegFrame(width, height, components, oneBlock ? 8 : 8 * maxH, oneBlock ? 8 : 8 * maxV, interval,
                    baseline && scanComponents == components && components <= 4 && maxH <= 4 && maxV <= 4, maxH, maxV, packed, sofOffset,
                    markerOffset, position);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Steps over one marker segment (and any fill bytes before it) from <paramref name="position"/>. Standalone
    /// markers have an empty segment. False at EOI or when the data runs out.
    /// </summary>
    internal static bool TryNextSegment(ReadOnlySpan<byte> data, ref int position, out byte marker, out int markerOffset, out ReadOnlySpan<byte> segment)
    {
        marker = 0;
        segment = default;
        markerOffset = position;
        if (position >= data.Length || data[position] != Marker)
        {
            return false;
        }

        while (position < data.Length && data[position] == Marker)
        {
            markerOffset = position++;
        }

        if (position >= data.Length)
        {
            return false;
        }

        marker = data[position++];
        if (marker == 0xD9)
        {
            return false;
        }

        if (marker is >= 0xD0 and <= 0xD7 or 0x01)
        {
            return true;
        }

        if (position + 2 > data.Length)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(data[position..]);
        if (length < 2 || position + length > data.Length)
        {
            return false;
        }

        segment = data.Slice(position + 2, length - 2);
        position += length;
        return true;
    }
}
