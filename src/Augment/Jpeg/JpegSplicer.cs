using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loader.Augment.Jpeg;

/// <summary>
/// Crop-proportional decoding: out of a baseline JPEG with restart markers, builds a small valid JPEG holding only the
/// restart intervals that cover a rectangle, so the decoder Huffman-decodes only those (libjpeg's own region decode
/// still decodes every row above the rectangle across the full width). Restart markers reset the DC predictors, so
/// each interval decodes on its own; the sub-JPEG is the source's tables, its own frame size, the source's DRI, the
/// intervals copied, and their RST markers renumbered 0, 1, ..., 7, 0, ...
///
/// Usable when the intervals tile the image into rectangles: the interval length divides the MCUs per row (several
/// intervals per row) or is a whole number of rows. When the decoder's fancy chroma upsampling runs along an axis at
/// the scale asked for (4:2:0 at 8/8 both ways, 4:2:2 across at 2/8 to 8/8; see <see cref="JpegFrame.UpsamplingReach"/>),
/// a pixel blends its own chroma sample with the neighbouring one, and the sub-image's edges replicate instead: so the
/// sub-image must hold the pixel beyond each side of the rectangle along that axis (each pixel's neighbouring chroma
/// sample lies under the pixel next to it, or under itself), that is one pixel of margin, which adds an MCU only when
/// the rectangle's edge lies on an MCU boundary. The rectangle then decodes to the same bytes as in the full decode at
/// the same scale (the tests check every scale, every sampling, rectangle edges at every offset within an MCU).
///
/// One per thread: it owns its output buffer and the interval tables, grown as needed and reused (no allocation once
/// warm). Used by <see cref="CpuSampleDecoder"/> and usable as is by a GPU decoder (scale 8: source pixels).
/// </summary>
public sealed class JpegSplicer
{
    private const byte Marker = 0xFF;

    private byte[] _output = [];
    private int _length;
    private int[] _starts = new int[256];
    private int[] _ends = new int[256];

    /// <summary>The last sub-JPEG built.</summary>
    public ReadOnlySpan<byte> Output => _output.AsSpan(0, _length);

    /// <summary>The last sub-JPEG built, as memory (to pin for a GPU decoder); valid until the next splice.</summary>
    public ReadOnlyMemory<byte> OutputMemory => _output.AsMemory(0, _length);

    /// <summary>
    /// Builds the sub-JPEG covering the rectangle [x, x + width) x [y, y + height) of the image scaled by
    /// scaleNumerator/8. False, with nothing built, when the JPEG has no usable restart intervals or the rectangle
    /// (with its margin) needs every interval anyway: decode the source as it is then.
    /// </summary>
    /// <exception cref="ImageDecodeException">The restart markers the rectangle needs are missing, out of order or
    /// truncated: the file is corrupt.</exception>
    public bool TrySplice(ReadOnlySpan<byte> jpeg, int scaleNumerator, int x, int y, int width, int height, out SpliceResult result)
    {
        result = default;
        if (scaleNumerator is < 1 or > 8 || width <= 0 || height <= 0 || x < 0 || y < 0
            || !JpegFrame.TryRead(jpeg, out var frame) || !frame.Spliceable || frame.RestartInterval == 0)
        {
            return false;
        }

        var interval = frame.RestartInterval;
        var columns = frame.McuColumns;
        int mcusAcross, rowsPerInterval;
        if (interval <= columns && columns % interval == 0)
        {
            (mcusAcross, rowsPerInterval) = (interval, 1);
        }
        else if (interval % columns == 0)
        {
            (mcusAcross, rowsPerInterval) = (columns, interval / columns);
        }
        else
        {
            return false; // Intervals wrap across rows: no rectangle starts at an interval boundary.
        }

        var intervalsPerRow = columns / mcusAcross;
        var intervalRows = (frame.McuRows + rowsPerInterval - 1) / rowsPerInterval;

        // The rectangle with one pixel of margin along each axis that fancy upsampling reads across (clamped to the
        // image), in MCUs, then in whole intervals.
        var mcuWidth = frame.McuWidth * scaleNumerator / 8;
        var mcuHeight = frame.McuHeight * scaleNumerator / 8;
        var (reachX, reachY) = frame.UpsamplingReach(scaleNumerator);
        var marginX = reachX ? 1 : 0;
        var marginY = reachY ? 1 : 0;
        var firstColumn = Math.Max(0, x - marginX) / mcuWidth;
        var endColumn = Math.Min(columns, (x + width + marginX + mcuWidth - 1) / mcuWidth);
        var firstRow = Math.Max(0, y - marginY) / mcuHeight;
        var endRow = Math.Min(frame.McuRows, (y + height + marginY + mcuHeight - 1) / mcuHeight);
        if (reachX)
        {
            // libjpeg-turbo upsamples a row of only one or two chroma samples plainly (jdsample.c), the full image's
            // fancily: keep the sub-image at least 9 pixels wide (as the shim keeps its crops), or the image's width.
            var scaledWidth = ((frame.Width * scaleNumerator) + 7) / 8;
            while (Math.Min(scaledWidth, endColumn * mcuWidth) - (firstColumn * mcuWidth) < 9 && (firstColumn > 0 || endColumn < columns))
            {
                if (endColumn < columns)
                {
                    endColumn++;
                }
                else
                {
                    firstColumn--;
                }
            }
        }

        if (firstColumn >= endColumn || firstRow >= endRow)
        {
            return false;
        }

        var gridLeft = firstColumn / mcusAcross;
        var gridRight = (endColumn + mcusAcross - 1) / mcusAcross;
        var gridTop = firstRow / rowsPerInterval;
        var gridBottom = (endRow + rowsPerInterval - 1) / rowsPerInterval;
        if (gridLeft == 0 && gridRight == intervalsPerRow && gridTop == 0 && gridBottom == intervalRows)
        {
            return false;
        }

        var last = ((gridBottom - 1) * intervalsPerRow) + gridRight - 1;
        ScanIntervals(jpeg, frame, last, intervalsPerRow * intervalRows);

        var left = gridLeft * mcusAcross * frame.McuWidth;
        var top = gridTop * rowsPerInterval * frame.McuHeight;
        var right = Math.Min(frame.Width, gridRight * mcusAcross * frame.McuWidth);
        var bottom = Math.Min(frame.Height, gridBottom * rowsPerInterval * frame.McuHeight);
        var subWidth = right - left;
        var subHeight = bottom - top;

        var pieces = (gridRight - gridLeft) * (gridBottom - gridTop);
        var capacity = frame.EntropyOffset + (_ends[last] - _starts[gridTop * intervalsPerRow]) + (2 * pieces) + 4;
        if (_output.Length < capacity)
        {
            _output = new byte[capacity + (capacity >> 2)];
        }

        var output = _output.AsSpan();
        var length = WriteHeaders(jpeg, frame, subWidth, subHeight, output);
        var entropy = 0;
        var written = 0;
        for (var row = gridTop; row < gridBottom; row++)
        {
            for (var column = gridLeft; column < gridRight; column++)
            {
                if (written > 0)
                {
                    output[length++] = Marker;
                    output[length++] = (byte)(0xD0 + ((written - 1) & 7));
                }

                var index = (row * intervalsPerRow) + column;
                var piece = jpeg[_starts[index].._ends[index]];
                piece.CopyTo(output[length..]);
                length += piece.Length;
                entropy += piece.Length;
                written++;
            }
        }

        output[length++] = Marker;
        output[length++] = 0xD9;
        _length = length;
        result = new SpliceResult(length, left * scaleNumerator / 8, top * scaleNumerator / 8, ((subWidth * scaleNumerator) + 7) / 8,
            ((subHeight * scaleNumerator) + 7) / 8, entropy, jpeg.Length - frame.EntropyOffset);
        return true;
    }

    /// <summary>
    /// Finds where intervals 0..<paramref name="last"/> begin and end in the entropy-coded data: each ends at the next
    /// restart marker, which must be RST(k mod 8) after interval k; the last of the image ends at the next other
    /// marker. Stops once interval <paramref name="last"/> is found (the rest is never read).
    /// </summary>
    private void ScanIntervals(ReadOnlySpan<byte> jpeg, in JpegFrame frame, int last, int total)
    {
        if (_starts.Length < total)
        {
            _starts = new int[total + (total >> 2)];
            _ends = new int[_starts.Length];
        }

        var position = frame.EntropyOffset;
        var count = 0;
        _starts[0] = position;
        while (count <= last)
        {
            var marker = NextMarker(jpeg, position);
            if (marker < 0)
            {
                throw new ImageDecodeException($"Truncated JPEG: the data ends inside restart interval {count} of {total}.");
            }

            var after = marker + 1;
            while (after < jpeg.Length && jpeg[after] == Marker)
            {
                after++;
            }

            if (after >= jpeg.Length)
            {
                throw new ImageDecodeException($"Truncated JPEG: the data ends inside restart interval {count} of {total}.");
            }

            var code = jpeg[after];
            position = after + 1;
            if (code == 0x00)
            {
                continue; // A stuffed 0xFF data byte.
            }

            _ends[count] = marker;
            if (code is >= 0xD0 and <= 0xD7)
            {
                if (code - 0xD0 != (count & 7))
                {
                    throw new ImageDecodeException($"Corrupt JPEG: restart interval {count} of {total} ends with RST{code - 0xD0}, expected RST{count & 7}.");
                }

                if (count + 1 >= total)
                {
                    throw new ImageDecodeException($"Corrupt JPEG: more restart markers than the frame's {total} intervals.");
                }

                _starts[++count] = position;
                continue;
            }

            // Any other marker ends the scan: it must come after the last interval.
            if (count + 1 != total)
            {
                throw new ImageDecodeException($"Corrupt JPEG: the scan ends after {count + 1} restart intervals; the frame has {total}.");
            }

            count++;
        }
    }

    /// <summary>
    /// The first 0xFF at or after <paramref name="start"/> that is not a stuffed data byte (0xFF 0x00): a marker, a fill
    /// byte before one, or the data's last byte; -1 when there is none. Entropy-coded data holds a stuffed 0xFF every
    /// few hundred bytes, so this looks at 32 bytes and the byte after each at once instead of stopping at every 0xFF.
    /// </summary>
    internal static int NextMarker(ReadOnlySpan<byte> data, int start)
    {
        var i = start;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var origin = ref MemoryMarshal.GetReference(data);
            var marker = Vector256.Create(Marker);
            for (; i + Vector256<byte>.Count + 1 <= data.Length; i += Vector256<byte>.Count)
            {
                var bytes = Vector256.LoadUnsafe(ref origin, (nuint)i);
                var next = Vector256.LoadUnsafe(ref origin, (nuint)(i + 1));
                var found = Vector256.Equals(bytes, marker) & ~Vector256.Equals(next, Vector256<byte>.Zero);
                if (found != Vector256<byte>.Zero)
                {
                    return i + BitOperations.TrailingZeroCount(found.ExtractMostSignificantBits());
                }
            }
        }

        for (; i < data.Length; i++)
        {
            if (data[i] == Marker && (i + 1 == data.Length || data[i + 1] != 0x00))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>SOI, then the source's segments up to and including SOS, with the frame size rewritten and the
    /// metadata (APP1-APP13, APP15, COM) left out: the decoder does not read it.</summary>
    private static int WriteHeaders(ReadOnlySpan<byte> jpeg, in JpegFrame frame, int width, int height, Span<byte> output)
    {
        output[0] = Marker;
        output[1] = 0xD8;
        var length = 2;
        var position = 2;
        while (JpegFrame.TryNextSegment(jpeg, ref position, out var marker, out var markerOffset, out _) && markerOffset != frame.ScanOffset)
        {
            var standalone = marker is (>= 0xD0 and <= 0xD7) or 0x01;
            var metadata = marker is (>= 0xE1 and <= 0xED) or 0xEF or 0xFE;
            if (standalone || metadata)
            {
                continue;
            }

            var bytes = jpeg[(markerOffset + 1)..position];
            output[length++] = Marker;
            bytes.CopyTo(output[length..]);
            if (markerOffset == frame.SofOffset)
            {
                // After the marker byte: length (2), precision (1), height (2), width (2), ...
                BinaryPrimitives.WriteUInt16BigEndian(output[(length + 4)..], (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(output[(length + 6)..], (ushort)width);
            }

            length += bytes.Length;
        }

        var scan = jpeg[frame.ScanOffset..frame.EntropyOffset];
        scan.CopyTo(output[length..]);
        return length + scan.Length;
    }
}
