using System.Globalization;
using System.Text;

namespace Loader.Trainer.Distributed;

/// <summary>One setting that every rank must share, as a number (text settings are compared by a hash).</summary>
public readonly record struct AgreedSetting(string Name, long Value, string Shown)
{
    public static AgreedSetting Of(string name, long value) => new(name, value, value.ToString(CultureInfo.InvariantCulture));

    public static AgreedSetting Of(string name, string text) => new(name, StableHash.Of(text), text);
}

/// <summary>
/// The start-up check: every rank gathers every rank's settings (one all-gather) and compares them with rank 0's,
/// so a job whose ranks were started with different arguments or see different data sets stops at once, on every
/// rank, with the same message, instead of hanging in the first collective whose sizes differ.
/// </summary>
public static class RunAgreement
{
    public static void Check(Communicator communicator, IReadOnlyList<AgreedSetting> settings)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(settings);
        int world = communicator.WorldSize, count = settings.Count;
        // The count goes first, so that ranks whose lists differ in length (different builds) are caught too.
        long[] mine = new long[count + 1];
        mine[0] = count;
        for (int i = 0; i < count; i++) mine[i + 1] = settings[i].Value;
        long[] lengths = new long[world];
        communicator.AllGather(mine.AsSpan(0, 1), lengths);
        if (lengths.Any(l => l != count))
            throw new DistributedException($"ranks run different trainer builds: they check {string.Join(", ", lengths)} settings (rank order).");
        long[] all = new long[world * mine.Length];
        communicator.AllGather(mine, all);
        var problems = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            long root = all[i + 1];
            int[] differing = [.. Enumerable.Range(1, world - 1).Where(r => all[r * mine.Length + i + 1] != root)];
            if (differing.Length == 0) continue;
            if (problems.Length > 0) problems.Append("; ");
            bool text = settings[i].Shown != settings[i].Value.ToString(CultureInfo.InvariantCulture);
            problems.Append(CultureInfo.InvariantCulture, $"{settings[i].Name}: rank 0 has {(text ? "another value than" : root.ToString(CultureInfo.InvariantCulture))}");
            problems.Append(string.Join(", ", differing.Select(r => text
                ? $" rank {r}"
                : $" rank {r} has {all[r * mine.Length + i + 1].ToString(CultureInfo.InvariantCulture)}")));
            if (text) problems.Append(CultureInfo.InvariantCulture, $" (this rank, {communicator.Rank}, has '{settings[i].Shown}')");
        }
        if (problems.Length > 0)
            throw new DistributedException($"the ranks of this job disagree on settings that must match: {problems}.");
    }
}

/// <summary>FNV-1a, 64 bits: the same value for the same text in every process (string.GetHashCode is randomized).</summary>
internal static class StableHash
{
    public static long Of(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
            hash = (hash ^ b) * 1099511628211UL;
        return unchecked((long)hash);
    }
}
