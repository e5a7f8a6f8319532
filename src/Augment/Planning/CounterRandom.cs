namespace Loader.Augment.Planning;

/// <summary>
/// A counter-based random stream keyed by (seed, epoch, sample id): draw k is a hash of the key and k, so a sample's
/// plan depends on nothing but its own identity (no shared state, any thread, any order, resumable at any position).
/// The hash is SplitMix64's finalizer, which passes BigCrush on a counter input.
/// </summary>
internal struct CounterRandom : IPlanRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    private readonly ulong _key;
    private ulong _counter;

    public CounterRandom(ulong seed, int epoch, long sampleId)
    {
        // Chain the three parts through the mixer so that nearby triples give unrelated keys.
        var key = Mix(seed + Golden);
        key = Mix(key ^ ((ulong)(uint)epoch + Golden));
        key = Mix(key ^ unchecked((ulong)sampleId + (Golden * 3)));
        _key = key;
        _counter = 0;
    }

    public ulong NextUInt64()
    {
        _counter++;
        return Mix(_key + (_counter * Golden));
    }

    /// <summary>A float in [0, 1) with 24 random bits, like torch's float32 generator.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    public float Uniform(float low, float high) => low + ((high - low) * NextSingle());

    public int RandInt(int exclusiveHigh)
    {
        // Lemire's multiply-high: bias at most exclusiveHigh / 2^64, far below anything measurable.
        var high = Math.BigMul(NextUInt64(), (ulong)exclusiveHigh, out _);
        return (int)high;
    }

    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
