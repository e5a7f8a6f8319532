using System.Buffers.Binary;

namespace Loader.Records.Jpeg;

/// <summary>What a JPEG's markers say, read without decoding a pixel.</summary>
/// <param name="Width">Frame width (SOF).</param>
/// <param name="Height">Frame height (SOF).</param>
/// <param name="Components">1 = grayscale, 3 = YCbCr (or RGB), 4 = CMYK / YCCK.</param>
/// <param name="Precision">Bits per sample: 8, or 12 for extended JPEGs.</param>
/// <param name="Progressive">Progressive DCT (SOF2/6/10/14).</param>
/// <param name="Arithmetic">Arithmetic entropy coding (SOF9 and up), which some decoders (nvJPEG) lack.</param>
/// <param name="Lossless">Lossless (SOF3/7/11/15) or hierarchical (SOF5-7/13-15) coding: rare and poorly supported.</param>
/// <param name="AdobeTransform">Adobe APP14 transform flag (0 = none/CMYK or RGB, 1 = YCbCr, 2 = YCCK); -1 without APP14.</param>
/// <param name="Orientation">EXIF orientation 1..8 (1 = as stored; also when there is no EXIF).</param>
/// <param name="LumaSampling">The first component's sampling factors, e.g. 0x22 for 4:2:0.</param>
public readonly record struct JpegInfo(int Width, int Height, int Components, int Precision, bool Progressive,
                                       bool Arithmetic, bool Lossless, int AdobeTransform, int Orientation,
                                       int LumaSampling)
{
    public long Pixels => (long)Width * Height;
}

/// <summary>
/// Walks a JPEG's marker segments and entropy-coded data up to EOI: frame size and type (SOF), components, Adobe
/// APP14 transform, EXIF orientation (APP1), and whether the file is complete. Cheap (a vectorized search for 0xFF
/// over the scan data) and exact for what it checks; corrupt Huffman data inside a complete file is left to the
/// decoder.
/// </summary>
public static class JpegHeader
{
    private const byte Marker = 0xFF;
    private const byte Soi = 0xD8;
    private const byte Eoi = 0xD9;
    private const byte Sos = 0xDA;
    private const byte App1 = 0xE1;
    private const byte App14 = 0xEE;
    private const ushort ExifOrientationTag = 0x0112;

    /// <summary>The default pixel limit of every tool (make-records --max-pixels, index, verify): PIL's
    /// Image.MAX_IMAGE_PIXELS * 2, the size at which PIL refuses to decode, 178,956,970 pixels.</summary>
    public const long DefaultMaxPixels = 178_956_970;

    /// <summary>True when the bytes start with a JPEG SOI marker.</summary>
    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == Marker && data[1] == Soi && data[2] == Marker;

    /// <summary>Parses the headers and walks to EOI. On failure <paramref name="problem"/> says what is wrong.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out JpegInfo info, out string? problem)
    {
        info = default;
        if (!IsJpeg(data))
        {
            problem = "not a JPEG (no SOI marker)";
            return false;
        }

        int width = 0, height = 0, components = 0, precision = 0, sampling = 0, adobe = -1, orientation = 1;
        bool progressive = false, arithmetic = false, lossless = false, haveFrame = false;
        int position = 2;
        while (true)
        {
            // Markers may be preceded by any number of 0xFF fill bytes.
            if (position >= data.Length)
            {
                problem = "truncated: the file ends before the EOI marker";
                return false;
            }

            if (data[position] != Marker)
            {
                // Extraneous bytes before a marker: libjpeg warns and skips them; so do we.
                int next = data[position..].IndexOf(Marker);
                if (next < 0)
                {
                    problem = "truncated: the file ends before the EOI marker";
                    return false;
                }

                position += next;
            }

            while (position < data.Length && data[position] == Marker)
            {
                position++;
            }

            if (position >= data.Length)
            {
                problem = "truncated: the file ends inside a marker";
                return false;
            }

            byte marker = data[position++];
            if (marker == Eoi)
            {
                if (!haveFrame)
                {
                    problem = "corrupt: EOI before any image frame";
                    return false;
                }

                break;
            }

            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                continue; // Standalone markers: no length.
            }

            if (position + 2 > data.Length)
            {
                problem = "truncated: the file ends inside a marker segment";
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(data[position..]);
            if (length < 2 || position + length > data.Length)
            {
                problem = length < 2 ? $"corrupt: marker 0x{marker:X2} has length {length}" : "truncated: the file ends inside a marker segment";
                return false;
            }

            ReadOnlySpan<byte> segment = data.Slice(position + 2, length - 2);
            position += length;
            if (IsStartOfFrame(marker))
            {
                if (segment.Length < 6)
                {
                    problem = "corrupt: SOF segment too short";
                    return false;
                }

                haveFrame = true;
                precision = segment[0];
                height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                components = segment[5];
                sampling = segment.Length >= 8 ? segment[7] : 0;
                progressive = marker is 0xC2 or 0xC6 or 0xCA or 0xCE;
                arithmetic = marker >= 0xC9;
                lossless = marker is 0xC3 or 0xC5 or 0xC6 or 0xC7 or 0xCB or 0xCD or 0xCE or 0xCF;
            }
            else if (marker == App1)
            {
                orientation = ReadExifOrientation(segment) ?? orientation;
            }
            else if (marker == App14 && segment.Length >= 12 && segment[..5].SequenceEqual("Adobe"u8))
            {
                adobe = segment[11];
            }
            else if (marker == Sos)
            {
                if (!haveFrame)
                {
                    problem = "corrupt: scan data before the frame header (SOF)";
                    return false;
                }

                position = SkipEntropyCodedData(data, position);
                if (position < 0)
                {
                    problem = "truncated: the image data ends without an EOI marker";
                    return false;
                }
            }
        }

        if (width == 0 || height == 0 || components == 0)
        {
            problem = $"unsupported: frame size {width}x{height} with {components} components";
            return false;
        }

        info = new JpegInfo(width, height, components, precision, progressive, arithmetic, lossless, adobe, orientation, sampling);
        problem = null;
        return true;
    }

    private static bool IsStartOfFrame(byte marker) => marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;

    /// <summary>Returns the position of the next marker after entropy-coded data, or -1 when the data runs out.</summary>
    private static int SkipEntropyCodedData(ReadOnlySpan<byte> data, int position)
    {
        while (true)
        {
            int next = data[position..].IndexOf(Marker);
            if (next < 0)
            {
                return -1;
            }

            position += next;
            int after = position + 1;
            while (after < data.Length && data[after] == Marker)
            {
                after++;
            }

            if (after >= data.Length)
            {
                return -1;
            }

            byte b = data[after];
            if (b == 0x00 || b is >= 0xD0 and <= 0xD7)
            {
                position = after + 1; // Stuffed 0xFF00 or a restart marker: still scan data.
                continue;
            }

            return after - 1;
        }
    }

    private static int? ReadExifOrientation(ReadOnlySpan<byte> segment)
    {
        if (segment.Length < 14 || !segment[..6].SequenceEqual("Exif\0\0"u8))
        {
            return null;
        }

        ReadOnlySpan<byte> tiff = segment[6..];
        bool little = tiff[0] == 'I' && tiff[1] == 'I';
        if (!little && !(tiff[0] == 'M' && tiff[1] == 'M'))
        {
            return null;
        }

        uint ifd = ReadUInt32(tiff[4..], little);
        if (ifd > (uint)tiff.Length - 2)
        {
            return null;
        }

        int count = ReadUInt16(tiff[(int)ifd..], little);
        for (int i = 0; i < count; i++)
        {
            int entry = (int)ifd + 2 + (i * 12);
            if (entry + 12 > tiff.Length)
            {
                return null;
            }

            if (ReadUInt16(tiff[entry..], little) == ExifOrientationTag)
            {
                int value = ReadUInt16(tiff[(entry + 8)..], little);
                return value is >= 1 and <= 8 ? value : null;
            }
        }

        return null;
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);

    private static uint ReadUInt32(ReadOnlySpan<byte> b, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
}
