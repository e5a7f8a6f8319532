namespace Loader.Tools.MakeRecords.Demo;

/// <summary>SplitMix64: a small generator whose sequence is fixed by its seed forever (the demo set must be the
/// same on every machine and runtime).</summary>
internal sealed class DemoRandom(ulong seed)
{
    private ulong _state = seed;

    public static ulong Mix(ulong a, ulong b) => new DemoRandom(a ^ (b * 0x9E3779B97F4A7C15UL)).NextUInt64();

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double Range(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer in [min, max].</summary>
    public int Between(int min, int max) => min + (int)(NextUInt64() % (ulong)(max - min + 1));
}
