using System.Text;

namespace Loader.Tools.MakeRecords.Inputs;

/// <summary>
/// The inputs of one set, column by column: relative paths as UTF-8 in 1 MB chunks, 0-based labels, sizes and ids
/// (a record id for TFRecord input, the byte offset of the member's data in its tar file for tar input, else 0).
/// About 24 bytes plus the path's UTF-8 bytes per input, and no object per input: at ImageNet's 1.28 million inputs
/// a list of objects with a string each cost about 250 bytes per input (objects, strings, GC headroom).
/// Appended by one thread while scanning; read by many once complete.
/// </summary>
internal sealed class InputList
{
    /// <summary>Paths are packed into chunks of this size; a path never spans two chunks.</summary>
    private const int ChunkBytes = 1 << 20;

    /// <summary>The longest relative path taken (Linux's PATH_MAX is 4096 bytes for a whole path).</summary>
    public const int MaxPathBytes = 4096;

    private readonly List<byte[]> _chunks = [];
    private int _chunkUsed = ChunkBytes; // no chunk yet: the first Add opens one
    private int[] _pathStart = new int[16]; // chunk << 20 | offset in chunk
    private int[] _pathLength = new int[16];
    private int[] _labels = new int[16];
    private long[] _sizes = new long[16];
    private long[] _ids = new long[16];

    public int Count { get; private set; }

    /// <summary>The sum of every input's size (it plans the shards).</summary>
    public long TotalSize { get; private set; }

    public void Add(string relativePath, int label, long size, long id = 0)
    {
        int length = Encoding.UTF8.GetByteCount(relativePath);
        if (length > MaxPathBytes)
        {
            throw new InvalidDataException($"{relativePath[..64]}...: a relative path of {length} bytes is longer than {MaxPathBytes}");
        }

        if (_chunkUsed + length > ChunkBytes)
        {
            if (_chunks.Count == int.MaxValue >> 20)
            {
                throw new InvalidDataException($"more than {_chunks.Count} MB of input paths: split the input");
            }

            _chunks.Add(new byte[ChunkBytes]);
            _chunkUsed = 0;
        }

        if (Count == _labels.Length)
        {
            Grow();
        }

        int chunk = _chunks.Count - 1;
        Encoding.UTF8.GetBytes(relativePath, _chunks[chunk].AsSpan(_chunkUsed, length));
        _pathStart[Count] = (chunk << 20) | _chunkUsed;
        _pathLength[Count] = length;
        _labels[Count] = label;
        _sizes[Count] = size;
        _ids[Count] = id;
        _chunkUsed += length;
        TotalSize += size;
        Count++;
    }

    public int LabelOf(int item) => _labels[Check(item)];

    public long SizeOf(int item) => _sizes[Check(item)];

    public long IdOf(int item) => _ids[Check(item)];

    /// <summary>The relative path's UTF-8 bytes (no copy).</summary>
    public ReadOnlySpan<byte> Utf8PathOf(int item)
    {
        int start = _pathStart[Check(item)];
        return _chunks[start >> 20].AsSpan(start & (ChunkBytes - 1), _pathLength[item]);
    }

    /// <summary>The relative path (a new string: for the record's file name and the report, not for hot loops).</summary>
    public string PathOf(int item) => Encoding.UTF8.GetString(Utf8PathOf(item));

    private int Check(int item) => (uint)item < (uint)Count ? item : throw new ArgumentOutOfRangeException(nameof(item));

    private void Grow()
    {
        int capacity = _labels.Length * 2;
        Array.Resize(ref _pathStart, capacity);
        Array.Resize(ref _pathLength, capacity);
        Array.Resize(ref _labels, capacity);
        Array.Resize(ref _sizes, capacity);
        Array.Resize(ref _ids, capacity);
    }
}
