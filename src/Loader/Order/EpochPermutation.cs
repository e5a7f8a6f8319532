using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loader.Pipeline.Order;

/// <summary>
/// A pseudo-random permutation of <c>[0, count)</c> chosen by (seed, epoch), evaluated one position at a time in
/// O(1): no table of <c>count</c> entries is ever built, so resuming at any position costs nothing.
/// </summary>
/// <remarks>
/// A balanced Feistel network over the smallest even number of bits that covers <c>count</c> is a bijection on
/// <c>[0, 2^bits)</c>; cycle walking (apply it again while the result is out of range) restricts it to a bijection
/// on <c>[0, count)</c>. The domain is less than 4 * count, so the expected number of walks is below 4.
/// <para>
/// Block-local shuffling (<see cref="BlockShuffled"/>, for slow storage) keeps runs of <c>blockSize</c> consecutive
/// records together: the full blocks are visited in a random order and the records inside each block in a random
/// order; the short tail block, if any, comes last (also shuffled inside), which keeps the mapping a bijection.
/// </para>
/// </remarks>
internal readonly struct EpochPermutation
{
    private const int Rounds = 6;

    private readonly long _count;
    private readonly int _halfBits;
    private readonly ulong _halfMask;
    private readonly ulong _key;
    private readonly bool _identity;
    private readonly long _blockSize;

    private EpochPermutation(long count, ulong key, bool identity, long blockSize = 0)
    {
        _count = count;
        _key = key;
        _blockSize = blockSize;
        _identity = identity || count <= 1;
        int bits = count <= 2 ? 2 : 64 - BitOperations.LeadingZeroCount((ulong)(count - 1));
        _halfBits = (bits + 1) / 2;
        _halfMask = (1UL << _halfBits) - 1;
    }

    public long Count => _count;

    /// <summary>The training order of one epoch: a different permutation for every (seed, epoch).</summary>
    public static EpochPermutation Shuffled(long count, ulong seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ulong key = Mix(Mix(seed ^ 0x6C6F616465722D6FUL) ^ (ulong)(uint)epoch);
        return new EpochPermutation(count, key, identity: false);
    }

    /// <summary>
    /// A training order that reads <paramref name="blockSize"/> consecutive records together (blocks in a random
    /// order, records in a random order inside their block): for storage where random reads are slow.
    /// </summary>
    public static EpochPermutation BlockShuffled(long count, long blockSize, ulong seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        if (blockSize == 1 || blockSize >= count)
        {
            return Shuffled(count, seed, epoch); // one record per block, or one block: a plain shuffle
        }

        ulong key = Mix(Mix(seed ^ 0x626C6F636B2D6F72UL) ^ (ulong)(uint)epoch);
        return new EpochPermutation(count, key, identity: false, blockSize);
    }

    /// <summary>The stored order (evaluation).</summary>
    public static EpochPermutation Sequential(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new EpochPermutation(count, 0, identity: true);
    }

    /// <summary>The sample at <paramref name="position"/> (0 &lt;= position &lt; Count).</summary>
    public long this[long position]
    {
        get
        {
            if ((ulong)position >= (ulong)_count)
            {
                ThrowPositionOutOfRange(position, _count);
            }

            if (_identity)
            {
                return position;
            }

            if (_blockSize > 0)
            {
                return BlockSample(position);
            }

            ulong x = (ulong)position;
            do
            {
                x = Encrypt(x);
            }
            while (x >= (ulong)_count);
            return (long)x;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Encrypt(ulong x)
    {
        ulong left = x >> _halfBits;
        ulong right = x & _halfMask;
        for (int round = 0; round < Rounds; round++)
        {
            ulong next = left ^ (Mix(_key + ((ulong)round * 0x9E3779B97F4A7C15UL) ^ right) & _halfMask);
            left = right;
            right = next;
        }

        return (left << _halfBits) | right;
    }

    private long BlockSample(long position)
    {
        long fullBlocks = _count / _blockSize;
        long block = position / _blockSize;
        long offset = position - (block * _blockSize);
        long blockSize = _blockSize;
        if (block < fullBlocks)
        {
            block = new EpochPermutation(fullBlocks, _key, identity: false)[block];
        }
        else
        {
            blockSize = _count - (fullBlocks * _blockSize); // the tail stays last
        }

        var inside = new EpochPermutation(blockSize, Mix(_key ^ (ulong)block), identity: false);
        return (block * _blockSize) + inside[offset];
    }

    /// <summary>SplitMix64's finalizer: a fast, well-mixing 64-bit hash.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPositionOutOfRange(long position, long count) =>
        throw new ArgumentOutOfRangeException(nameof(position), position, $"The position must lie in [0, {count}).");
}
