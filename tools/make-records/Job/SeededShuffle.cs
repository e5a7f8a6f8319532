namespace Loader.Tools.MakeRecords.Job;

/// <summary>
/// Fisher-Yates over SplitMix64: a shuffle fixed by the seed forever (System.Random's seeded sequence is an
/// implementation detail; record order must not change with the runtime).
/// </summary>
internal static class SeededShuffle
{
    public static int[] Permutation(int count, ulong seed)
    {
        int[] order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }

        ulong state = seed;
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)(Next(ref state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    private static ulong Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
