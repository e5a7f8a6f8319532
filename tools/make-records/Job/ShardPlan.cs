namespace Loader.Tools.MakeRecords.Job;

/// <summary>How the shuffled order is cut into shards: shard s takes <c>order[s*n/S .. (s+1)*n/S)</c>.</summary>
internal readonly struct ShardPlan(int[] order, int shardCount)
{
    public int ShardCount => shardCount;

    public int Start(int shard) => (int)((long)shard * order.Length / shardCount);

    public int End(int shard) => (int)((long)(shard + 1) * order.Length / shardCount);

    /// <summary>The input items of a shard, in record order.</summary>
    public ReadOnlySpan<int> Items(int shard) => order.AsSpan(Start(shard), End(shard) - Start(shard));

    /// <summary>The input item at position <paramref name="position"/> of shard <paramref name="shard"/>'s plan.</summary>
    public int ItemAt(int shard, int position) => order[Start(shard) + position];
}
