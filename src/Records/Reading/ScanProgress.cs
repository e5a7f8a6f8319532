namespace Loader.Records.Reading;

/// <summary>
/// How far a scan of a folder's shards has got, in bytes: the total once the shards are listed (0 before), and the
/// bytes done so far (make-records index counts each shard as it finishes, verify each read as it lands). Written by
/// the scanning threads, safe to read from any thread (a progress bar).
/// </summary>
internal sealed class ScanProgress
{
    private long _totalBytes;
    private long _bytesDone;

    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    public long BytesDone => Interlocked.Read(ref _bytesDone);

    public void Listed(long totalBytes) => Interlocked.Exchange(ref _totalBytes, totalBytes);

    public void Done(long bytes) => Interlocked.Add(ref _bytesDone, bytes);
}
