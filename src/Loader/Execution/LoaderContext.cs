using Loader.Pipeline.Order;

namespace Loader.Pipeline.Execution;

/// <summary>
/// What the CPU and GPU implementations of <see cref="DataLoader"/> share, and all an epoch run may see of its
/// loader: the options, the cursor (state, held batches, the one run at a time), the one planner, the one
/// bad-sample policy and the metrics.
/// </summary>
internal sealed class LoaderContext
{
    public LoaderContext(LoaderOptions options, long datasetSize, LoaderMetrics metrics, BadSamplePolicy badSamples)
    {
        Options = options;
        DatasetSize = datasetSize;
        Metrics = metrics;
        BadSamples = badSamples;
    }

    public LoaderOptions Options { get; }

    public long DatasetSize { get; }

    public LoaderMetrics Metrics { get; }

    public BadSamplePolicy BadSamples { get; }

    /// <summary>Set once by the loader's constructor (the cursor needs the loader to start runs).</summary>
    public LoaderCursor Cursor { get; set; } = null!;

    public ulong Seed => Options.Seed;

    /// <summary>One rank's plan for an epoch from a position: the one planner the CPU and GPU loaders share.</summary>
    public EpochPlan PlanEpoch(int epoch, long start)
    {
        LoaderOptions options = Options;
        EpochPermutation order = !options.Train ? EpochPermutation.Sequential(DatasetSize)
            : options.ShuffleBlockSize > 1 ? EpochPermutation.BlockShuffled(DatasetSize, options.ShuffleBlockSize, options.Seed, epoch)
            : EpochPermutation.Shuffled(DatasetSize, options.Seed, epoch);
        return new EpochPlan(order, epoch, start, options.Rank, options.WorldSize, options.BatchSize, options.LastBatch);
    }

    /// <summary>The state a loader starts from, checked against the options and the data set.</summary>
    public static LoaderState StartState(LoaderOptions options, long datasetSize, LoaderState? resumeFrom)
    {
        LoaderState state = resumeFrom ?? new LoaderState(options.Seed, 0, 0);
        if (state.Seed != options.Seed)
        {
            throw new ArgumentException(
                $"The state to resume from was saved with seed {state.Seed}, but the options say seed {options.Seed}.",
                nameof(resumeFrom));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(state.Epoch, nameof(resumeFrom));
        if (state.Position < 0 || state.Position > datasetSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(resumeFrom), state.Position, $"The position must lie in [0, {datasetSize}] (the data set size).");
        }

        if (datasetSize == 0)
        {
            throw new ArgumentException("The data set holds no samples.", nameof(datasetSize));
        }

        return state;
    }
}
