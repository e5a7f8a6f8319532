namespace Loader.Augment.Cpu;

/// <summary>
/// Antialiased bilinear (triangle filter) weights for one axis, computed exactly as PIL's <c>precompute_coeffs</c>
/// (Resample.c), which torchvision's PIL path uses: the filter widens with the downscale factor (support = scale),
/// taps are clipped to the readable range and renormalized. Owned by one decoder and reused: no allocation once its
/// arrays are large enough.
/// </summary>
internal sealed class AxisCoefficients
{
    private int[] _first = [];
    private int[] _count = [];
    private float[] _weights = [];

    /// <summary>Output length.</summary>
    public int Length { get; private set; }

    /// <summary>Weights per output position (the stride of <see cref="Weights"/>).</summary>
    public int TapStride { get; private set; }

    /// <summary>The most taps any output position has (the others' weights are zero up to <see cref="TapStride"/>).</summary>
    public int MaxCount { get; private set; }

    /// <summary>Lowest input index any output reads (absolute, before <see cref="Rebase"/>).</summary>
    public int MinIndex { get; private set; }

    /// <summary>One past the highest input index any output reads.</summary>
    public int MaxIndexExclusive { get; private set; }

    public ReadOnlySpan<int> First => _first.AsSpan(0, Length);

    public ReadOnlySpan<int> Count => _count.AsSpan(0, Length);

    public ReadOnlySpan<float> Weights => _weights.AsSpan(0, Length * TapStride);

    /// <summary>
    /// Output position i samples the box <c>[boxStart, boxStart + boxLength)</c> at <c>boxStart + (i + 0.5) * scale</c>,
    /// reading only inputs in <c>[clipStart, clipEnd)</c>.
    /// </summary>
    public void Compute(double boxStart, double boxLength, int outputLength, int clipStart, int clipEnd)
    {
        if (outputLength <= 0 || clipEnd <= clipStart || !(boxLength > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(outputLength), "Empty resample axis.");
        }

        var scale = boxLength / outputLength;
        var filterScale = Math.Max(scale, 1.0);
        var support = filterScale; // bilinear: support 1, widened by the downscale factor
        var tapStride = ((int)Math.Ceiling(support) * 2) + 1;
        Ensure(outputLength, tapStride);
        Length = outputLength;
        TapStride = tapStride;

        var invFilterScale = 1.0 / filterScale;
        var minIndex = int.MaxValue;
        var maxIndex = int.MinValue;
        var maxCount = 0;
        Span<double> raw = stackalloc double[tapStride];
        for (var i = 0; i < outputLength; i++)
        {
            var center = boxStart + ((i + 0.5) * scale);

            // C's (int) truncates toward zero; so does C#'s cast. The clamps then apply PIL's bounds (ours: the clip range).
            var first = Math.Max((int)(center - support + 0.5), clipStart);
            var last = Math.Min((int)(center + support + 0.5), clipEnd);
            var count = Math.Min(Math.Max(last - first, 0), tapStride);
            if (count == 0)
            {
                // A box entirely outside the clip range cannot happen for valid plans; read the nearest pixel.
                first = Math.Clamp((int)center, clipStart, clipEnd - 1);
                count = 1;
                raw[0] = 1;
            }
            else
            {
                var total = 0.0;
                for (var t = 0; t < count; t++)
                {
                    var w = Triangle((t + first - center + 0.5) * invFilterScale);
                    raw[t] = w;
                    total += w;
                }

                for (var t = 0; t < count; t++)
                {
                    raw[t] = total != 0 ? raw[t] / total : 0;
                }
            }

            var weights = _weights.AsSpan(i * tapStride, tapStride);
            weights.Clear();
            for (var t = 0; t < count; t++)
            {
                weights[t] = (float)raw[t];
            }

            _first[i] = first;
            _count[i] = count;
            minIndex = Math.Min(minIndex, first);
            maxIndex = Math.Max(maxIndex, first + count);
            maxCount = Math.Max(maxCount, count);
        }

        MinIndex = minIndex;
        MaxIndexExclusive = maxIndex;
        MaxCount = maxCount;
    }

    /// <summary>Makes <see cref="First"/> relative to <paramref name="origin"/> (the first decoded row or column).</summary>
    public void Rebase(int origin)
    {
        for (var i = 0; i < Length; i++)
        {
            _first[i] -= origin;
        }

        MinIndex -= origin;
        MaxIndexExclusive -= origin;
    }

    private static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private void Ensure(int length, int tapStride)
    {
        if (_first.Length < length)
        {
            _first = new int[length];
            _count = new int[length];
        }

        if (_weights.Length < length * tapStride)
        {
            _weights = new float[length * tapStride];
        }
    }
}
