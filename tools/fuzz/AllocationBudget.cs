namespace Loader.Tools.Fuzz;

/// <summary>
/// Bounds what one parse may allocate: <c>perInputByte * N + fixedBytes</c> managed bytes for an input of N bytes.
/// Catches a length field that makes a parser allocate what the field claims instead of what the input holds (a
/// 20-byte file that allocates a gigabyte). The ratios are generous (object headers, UTF-16 strings, list doubling,
/// LZ4's 255:1 ratio for the index): the aim is to catch allocation driven by claims, not to measure efficiency.
/// Counts every thread (the stream reader's file reads may complete on the thread pool); the imprecise counter is
/// exact to a few kilobytes per thread, far below <c>fixedBytes</c>.
/// </summary>
public readonly struct AllocationBudget
{
    private readonly long _start;
    private readonly long _limit;

    private AllocationBudget(long limit)
    {
        _start = GC.GetTotalAllocatedBytes(precise: false);
        _limit = limit;
    }

    public static AllocationBudget Start(int inputLength, long perInputByte, long fixedBytes) =>
        new((inputLength * perInputByte) + fixedBytes);

    /// <summary>Throws a <see cref="FuzzFindingException"/> when the parse allocated more than its budget.</summary>
    public void Check(string target, int inputLength)
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: false) - _start;
        if (allocated > _limit)
        {
            throw new FuzzFindingException(
                $"{target}: an input of {inputLength} bytes made the parser allocate {allocated} bytes (budget {_limit})");
        }
    }
}
