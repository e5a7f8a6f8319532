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

/// <summary>Where the inputs' bytes come from: files under a folder, members of tar files, or the records of an
/// existing TFRecord data set. One per input set (an input carries no source object of its own).</summary>
internal abstract record InputSource
{
    /// <summary>Reads the whole input into a pooled buffer (large inputs would otherwise churn the large object heap).</summary>
    public abstract RentedBytes Read(InputList items, int item);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> of an open file into a pooled buffer;
    /// fewer when the file is shorter (it shrank while we read it: what was read is what the sanitizer sees).</summary>
    protected static RentedBytes ReadRange(SafeFileHandle file, string fullPath, long offset, long length)
    {
        if (length > Array.MaxLength)
        {
            throw new IOException($"{fullPath}: {length} bytes is too large for one record");
        }

        if (length <= 0)
        {
            return new RentedBytes([], 0, 0);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)length);
        int done = 0;
        try
        {
            while (done < length)
            {
                int n = RandomAccess.Read(file, buffer.AsSpan(done, (int)length - done), offset + done);
                if (n == 0)
                {
                    break;
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

internal sealed record FileSource(string Root) : InputSource
{
    public override RentedBytes Read(InputList items, int item)
    {
        string fullPath = Path.Combine(Root, items.PathOf(item));
        using SafeFileHandle file = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        return ReadRange(file, fullPath, 0, RandomAccess.GetLength(file));
    }
}

/// <summary>A member of a tar file under a folder: the item's path is <c>TAR/MEMBER</c>, its id the offset of the
/// member's data in the tar (<see cref="TarFolder"/>).</summary>
internal sealed record TarSource(string Root) : InputSource
{
    public override RentedBytes Read(InputList items, int item)
    {
        string path = items.PathOf(item);
        string tarPath = Path.Combine(Root, path[..path.IndexOf('/', StringComparison.Ordinal)]);
        using SafeFileHandle tar = File.OpenHandle(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadRange(tar, Path.Combine(Root, path), items.IdOf(item), items.SizeOf(item));
    }
}

/// <summary>A record of an opened <see cref="RecordDataset"/>: read with its CRCs checked.</summary>
internal sealed record RecordSource(RecordDataset Dataset) : InputSource
{
    public override RentedBytes Read(InputList items, int item)
    {
        byte[] buffer = [];
        try
        {
            EncodedImage image = Dataset.ReadImage(items.IdOf(item), ref buffer);
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

/// <summary>What an input scan found: the kind of input, classes (0-based, in label order), the inputs in a stable
/// order (each with its path relative to the input, as the report names it, label, size and id) and where their
/// bytes are.</summary>
internal sealed record InputSet(string Root, string Kind, IReadOnlyList<ClassInfo> Classes, InputList Items, InputSource Source)
    : IDisposable
{
    /// <summary>The data set a TFRecord input was opened from; disposed with the set.</summary>
    public RecordDataset? OpenedRecords { get; init; }

    /// <summary>Files found but not taken as inputs (for example, loose files beside the class folders), with why.</summary>
    public IReadOnlyList<(string Path, string Reason)> Ignored { get; init; } = [];

    public void Dispose() => OpenedRecords?.Dispose();
}
