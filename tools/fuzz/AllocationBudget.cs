namespace Loader.Tools.Fuzz;

/// <summary>
/// Bounds what one parse may allocate: <c>perInputByte * N + fixedBytes</c> managed bytes for an input of N bytes.
/// Catches a length field that makes a parser allocate what the field claims instead of what the input holds (a
/// 20-byte file that allocates a gigabyte). The ratios are generous (object headers, UTF-16 strings, list doubling,
/// LZ4's 255:1 ratio for the index): the aim is to catch allocation driven by claims, not to measure efficiency.
/// Counts the calling thread only, so that tests running beside it (the replay test runs under xunit's parallel
/// runner) cannot trip it; the stream reader's file reads may finish on the thread pool, but its buffers are
/// allocated on the caller's thread. An allocation on another thread is still bounded by run.sh's GC heap limit.
/// </summary>
public readonly struct AllocationBudget
{
    private readonly long _start;
    private readonly long _limit;

    private AllocationBudget(long limit)
    {
        _start = GC.GetAllocatedBytesForCurrentThread();
        _limit = limit;
    }

    public static AllocationBudget Start(int inputLength, long perInputByte, long fixedBytes) =>
        new((inputLength * perInputByte) + fixedBytes);

    /// <summary>Throws a <see cref="FuzzFindingException"/> when the parse allocated more than its budget.</summary>
    public void Check(string target, int inputLength)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread() - _start;
        if (allocated > _limit)
        {
            throw new FuzzFindingException(
                $"{target}: an input of {inputLength} bytes made the parser allocate {allocated} bytes (budget {_limit})");
        }
    }
}
