namespace Loader.Records.Tests.Fuzzing;

/// <summary>
/// A small, seeded AFL-style havoc mutator: bit flips, random and boundary bytes and integers, deleted, duplicated
/// and inserted blocks, truncation, splicing with another seed. CI cannot afford to install and run AFL; this gives
/// every build a short, deterministic fuzzing pass through the same harness entry points (same seed, same inputs).
/// </summary>
internal sealed class SeedMutator(IReadOnlyList<byte[]> seeds, int seed)
{
    private static readonly long[] Interesting =
        [0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, long.MinValue];

    private readonly Random _random = new(seed);

    public byte[] Next()
    {
        var data = new List<byte>(seeds[_random.Next(seeds.Count)]);
        int operations = 1 << _random.Next(4);
        for (int i = 0; i < operations; i++)
        {
            Mutate(data);
        }

        return [.. data];
    }

    private void Mutate(List<byte> data)
    {
        int at = data.Count == 0 ? 0 : _random.Next(data.Count);
        switch (_random.Next(9))
        {
            case 0 when data.Count > 0:
                data[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[at] = (byte)_random.Next(256);
                break;
            case 2:
                WriteInteger(data, at, Interesting[_random.Next(Interesting.Length)], 1 << _random.Next(4), _random.Next(2) == 0);
                break;
            case 3:
                WriteInteger(data, at, _random.NextInt64(), 1 << _random.Next(4), littleEndian: true);
                break;
            case 4 when data.Count > 1:
                data.RemoveRange(at, _random.Next(1, Math.Min(data.Count - at, 64) + 1));
                break;
            case 5 when data.Count > 1:
                int length = _random.Next(1, Math.Min(data.Count - at, 64) + 1);
                data.InsertRange(_random.Next(data.Count), data.GetRange(at, length));
                break;
            case 6:
                var bytes = new byte[_random.Next(1, 17)];
                _random.NextBytes(bytes);
                data.InsertRange(at, bytes);
                break;
            case 7 when data.Count > 0:
                data.RemoveRange(at, data.Count - at);
                break;
            case 8:
                byte[] other = seeds[_random.Next(seeds.Count)];
                int from = _random.Next(other.Length + 1);
                data.RemoveRange(at, data.Count - at);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            default:
                break;
        }
    }

    private static void WriteInteger(List<byte> data, int at, long value, int width, bool littleEndian)
    {
        for (int b = 0; b < width && at + b < data.Count; b++)
        {
            int shift = 8 * (littleEndian ? b : width - 1 - b);
            data[at + b] = (byte)(value >> shift);
        }
    }
}
