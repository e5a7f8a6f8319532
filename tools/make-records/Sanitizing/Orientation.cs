namespace Loader.Tools.MakeRecords.Sanitizing;

/// <summary>
/// Applies an EXIF orientation (1..8) to 32-bit pixels, so the stored image is upright and its header needs none.
/// A plain remapping loop: simple to check against the EXIF table, and off the hot path (few images need it).
/// </summary>
internal static class Orientation
{
    /// <summary>True when the orientation swaps width and height (5..8: a quarter turn is involved).</summary>
    public static bool SwapsAxes(int orientation) => orientation is >= 5 and <= 8;

    /// <summary>Returns the upright pixels; <paramref name="width"/> and <paramref name="height"/> are the stored size
    /// and become the upright size.</summary>
    public static uint[] Apply(ReadOnlySpan<uint> source, ref int width, ref int height, int orientation)
    {
        int w = width, h = height;
        bool swap = SwapsAxes(orientation);
        int outW = swap ? h : w, outH = swap ? w : h;
        var result = new uint[source.Length];
        for (int y = 0; y < outH; y++)
        {
            for (int x = 0; x < outW; x++)
            {
                (int sx, int sy) = orientation switch
                {
                    2 => (w - 1 - x, y),                 // mirrored horizontally
                    3 => (w - 1 - x, h - 1 - y),         // rotated 180
                    4 => (x, h - 1 - y),                 // mirrored vertically
                    5 => (y, x),                         // transposed
                    6 => (y, h - 1 - x),                 // stored rotated 90 CCW: turn 90 CW
                    7 => (w - 1 - y, h - 1 - x),         // transverse
                    8 => (w - 1 - y, x),                 // stored rotated 90 CW: turn 90 CCW
                    _ => (x, y),
                };
                result[(y * outW) + x] = source[(sy * w) + sx];
            }
        }

        width = outW;
        height = outH;
        return result;
    }
}
