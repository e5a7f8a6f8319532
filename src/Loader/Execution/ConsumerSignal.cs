using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Loader.Pipeline.Execution;

/// <summary>
/// How the single consumer of an epoch run waits for the next batch without allocating: synchronously on a
/// <see cref="ManualResetEventSlim"/>, asynchronously on one reusable <see cref="IValueTaskSource"/> (the pooled
/// value-task source of System.Threading.Channels' single-reader channels, for our one reader). Producers call
/// <see cref="Signal"/> after queueing a batch, completing or failing the run; the consumer re-checks the queue
/// after arming a wait, so a signal between its check and its wait is never lost.
/// </summary>
internal sealed class ConsumerSignal : IValueTaskSource
{
    private readonly ManualResetEventSlim _event = new(false);
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _asyncArmed;

    /// <summary>Wakes the consumer, waiting or about to wait, sync or async.</summary>
    public void Signal()
    {
        _event.Set();
        if (Interlocked.Exchange(ref _asyncArmed, 0) == 1)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Synchronous wait, step 1: from here on a signal is remembered.</summary>
    public void ArmSync() => _event.Reset();

    /// <summary>Synchronous wait, step 2 (after re-checking the queue): blocks until signalled.</summary>
    public void WaitSync() => _event.Wait();

    /// <summary>Asynchronous wait, step 1: from here on a signal completes the wait.</summary>
    public void ArmAsync()
    {
        _core.Reset();
        Volatile.Write(ref _asyncArmed, 1);
    }

    /// <summary>Step 2 when the re-check found something after all: drops the armed wait.</summary>
    public void DisarmAsync() => Interlocked.Exchange(ref _asyncArmed, 0);

    /// <summary>Asynchronous wait, step 2 (after re-checking the queue). With a cancelable token, registering costs
    /// an allocation; the default token costs none.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            await new ValueTask(this, _core.Version).ConfigureAwait(false);
            return;
        }

        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(
            static (state, token) => ((ConsumerSignal)state!).Cancel(token), this);
        await new ValueTask(this, _core.Version).ConfigureAwait(false);
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token,
                                      ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Cancel(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _asyncArmed, 0) == 1)
        {
            _core.SetException(new OperationCanceledException(token));
        }
    }
}
