using System.Buffers;
using Loader.Records;
using Microsoft.Win32.SafeHandles;

namespace Loader.Tools.MakeRecords.Inputs;

/// <summary>Bytes in an <see cref="ArrayPool{T}.Shared"/> array; <see cref="Dispose"/> returns it.</summary>
internal readonly record struct RentedBytes(byte[] Array, int Offset, int Length) : IDisposable
{
    public ReadOnlyMemory<byte> Memory => Array.AsMemory(Offset, Length);

    public void Dispose()
    {
        if (Array is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(Array);
        }
    }
}

/// <summary>Where the inputs' bytes come from: files under a folder, or the records of an existing TFRecord data set.
/// One per input set, shared by its items (an item carries no per-input source object).</summary>
internal abstract record InputSource
{
    /// <summary>Reads the whole input into a pooled buffer (large inputs would otherwise churn the large object heap).</summary>
    public abstract RentedBytes Read(InputItem item);
}

internal sealed record FileSource(string Root) : InputSource
{
    public override RentedBytes Read(InputItem item)
    {
        string fullPath = Path.Combine(Root, item.RelativePath);
        using SafeFileHandle file = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        long length = RandomAccess.GetLength(file);
        if (length > Array.MaxLength)
        {
            throw new IOException($"{fullPath}: {length} bytes is too large for one record");
        }

        if (length == 0)
        {
            return new RentedBytes([], 0, 0);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)length);
        int done = 0;
        try
        {
            while (done < length)
            {
                int n = RandomAccess.Read(file, buffer.AsSpan(done, (int)length - done), done);
                if (n == 0)
                {
                    break; // The file shrank while we read it: what was read is what the sanitizer sees.
                }

                done += n;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new RentedBytes(buffer, 0, done);
    }
}

/// <summary>A record of an opened <see cref="RecordDataset"/>: read with its CRCs checked.</summary>
internal sealed record RecordSource(RecordDataset Dataset) : InputSource
{
    public override RentedBytes Read(InputItem item)
    {
        byte[] buffer = [];
        try
        {
            EncodedImage image = Dataset.ReadImage(item.Id, ref buffer);
            return new RentedBytes(buffer, image.Offset, image.Length);
        }
        catch
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            throw;
        }
    }
}

/// <summary>One input: its path relative to the input (as the report names it), 0-based label, size for planning, where
/// its bytes are and, for a record input, its sample id.</summary>
internal sealed record InputItem(string RelativePath, int Label, long Size, InputSource Source, long Id);

/// <summary>What an input scan found: the kind of input, classes (0-based, sorted), and the items in a stable order.</summary>
internal sealed record InputSet(string Root, string Kind, IReadOnlyList<ClassInfo> Classes, IReadOnlyList<InputItem> Items)
    : IDisposable
{
    /// <summary>The data set a TFRecord input was opened from; disposed with the set.</summary>
    public RecordDataset? OpenedRecords { get; init; }

    /// <summary>Files found but not taken as inputs (for example, loose files beside the class folders), with why.</summary>
    public IReadOnlyList<(string Path, string Reason)> Ignored { get; init; } = [];

    public void Dispose() => OpenedRecords?.Dispose();
}
