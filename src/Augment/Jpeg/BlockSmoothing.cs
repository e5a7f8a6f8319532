namespace Loader.Augment.Jpeg;

/// <summary>
/// Whether libjpeg(-turbo) decodes a JPEG with block smoothing: a progressive file in which some component's first
/// nine AC coefficients are not all sent in full (a DC-only scan, a missing refinement; legal, and decoded without a
/// warning), whose missing ACs libjpeg estimates from the neighbouring blocks' DC values (jdcoefct.c, smoothing_ok).
/// The shim asks libjpeg itself once it has read the file (lj_smooths_blocks: such files are decoded at full width and
/// not transcoded); this reads the scan headers without decoding anything, for the GPU path, which sends such files
/// to the CPU (nvJPEG is not known to smooth). The segments are walked as <see cref="JpegFrame"/> walks them and the
/// entropy-coded data between them skipped as the splicer skips it (<see cref="JpegSplicer.NextMarker"/>). A header it
/// cannot follow, or a scan it misses, can only make it answer "smooths": the CPU path is always right, only slower.
/// </summary>
public static class BlockSmoothing
{
    private const int FirstNineAcs = 0x3FE; // bits 1..9

    /// <summary>True when libjpeg would smooth this JPEG's blocks (see the class).</summary>
    public static bool AppliesTo(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
        {
            return false;
        }

        Span<byte> ids = stackalloc byte[4];
        Span<int> exact = stackalloc int[4]; // per frame component: bit k set once coefficient k came with Al = 0
        exact.Clear();
        int components = 0, position = 2;
        var progressive = false;
        while (true)
        {
            // Between segments: the entropy-coded data of the scan before, up to its next marker.
            if (position < jpeg.Length && jpeg[position] != 0xFF && (position = JpegSplicer.NextMarker(jpeg, position)) < 0)
            {
                break;
            }

            if (!JpegFrame.TryNextSegment(jpeg, ref position, out var code, out _, out var segment))
            {
                break; // EOI, the end of the data, or a segment that does not fit it
            }

            if (code is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                progressive = code is 0xC2 or 0xC6 or 0xCA or 0xCE;
                if (!progressive)
                {
                    return false;
                }

                components = segment.Length >= 6 ? segment[5] : 0;
                if (components is < 1 or > 4 || segment.Length < 6 + (3 * components))
                {
                    return true;
                }

                for (var c = 0; c < components; c++)
                {
                    ids[c] = segment[6 + (3 * c)];
                }
            }
            else if (code == 0xDA && progressive)
            {
                var scanComponents = segment.Length > 0 ? segment[0] : 0;
                if (segment.Length < 1 + (2 * scanComponents) + 3)
                {
                    return true;
                }

                int ss = segment[1 + (2 * scanComponents)], se = segment[2 + (2 * scanComponents)];
                var al = segment[3 + (2 * scanComponents)] & 15;
                var sent = 0;
                for (var k = Math.Max(ss, 1); k <= Math.Min(se, 9); k++)
                {
                    sent |= 1 << k;
                }

                for (var s = 0; s < scanComponents && al == 0; s++)
                {
                    var c = ids[..components].IndexOf(segment[1 + (2 * s)]);
                    if (c >= 0)
                    {
                        exact[c] |= sent;
                    }
                }
            }
        }

        if (!progressive || components == 0)
        {
            return progressive;
        }

        foreach (var bits in exact[..components])
        {
            if ((bits & FirstNineAcs) != FirstNineAcs)
            {
                return true;
            }
        }

        return false;
    }
}
