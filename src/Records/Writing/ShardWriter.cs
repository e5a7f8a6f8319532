using System.Security.Cryptography;
using Loader.Records.Format;
using Loader.Records.Index;
using Microsoft.Win32.SafeHandles;

namespace Loader.Records.Writing;

/// <summary>
/// Writes one shard: TFRecord-framed payloads, then its index and DALI index. Everything is written under
/// temporary names (<c>*.tmp</c>) and renamed on <see cref="Complete"/>, the shard last, so a killed run never
/// leaves a shard that looks finished. Not thread-safe: one writer per shard.
/// </summary>
/// <remarks>
/// Two ways in. The fast path, <see cref="AppendFramed"/>, takes records a worker already framed in their own buffers
/// and writes a batch of them with one gather write (pwritev), hashing each for the shard's SHA-256: the bytes are
/// never copied. The simple path, <see cref="Append(ReadOnlySpan{byte}, int, int, int)"/>, frames a payload into a
/// 1 MiB block and writes and hashes each full block. Both may be mixed; the file is the records in call order.
/// </remarks>
public sealed class ShardWriter : IDisposable
{
    /// <summary>Bytes per write and per hash step on the simple path: large enough that system calls cost nothing.</summary>
    internal const int BlockSize = 1 << 20;

    private readonly string _shardPath;
    private readonly string _temporaryPath;
    private readonly SafeFileHandle _file;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly List<long> _offsets = [];
    private readonly List<int> _lengths = [];
    private readonly List<uint> _crcs = [];
    private readonly List<int> _labels = [];
    private readonly List<int> _widths = [];
    private readonly List<int> _heights = [];
    private readonly byte[] _frame = new byte[TfRecordFraming.HeaderSize];
    private readonly List<ReadOnlyMemory<byte>> _segments = [];
    private readonly byte[] _block = GC.AllocateUninitializedArray<byte>(BlockSize);

    private int _blockUsed;
    private long _written;
    private long _position;
    private bool _completed;

    public ShardWriter(string shardPath)
    {
        _shardPath = shardPath;
        _temporaryPath = shardPath + ".tmp";
        _file = File.OpenHandle(_temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None);
    }

    public int Count => _offsets.Count;

    /// <summary>Appends one record; returns its position in the shard.</summary>
    public int Append(ReadOnlySpan<byte> payload, int label, int width, int height) =>
        Append(payload, Crc32C.Compute(payload), label, width, height);

    /// <summary>Appends one record whose CRC-32C the caller already computed (on a worker thread, say); returns its
    /// position in the shard.</summary>
    public int Append(ReadOnlySpan<byte> payload, uint payloadCrc, int label, int width, int height)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        TfRecordFraming.WriteHeader(_frame, payload.Length);
        Put(_frame);
        Put(payload);
        TfRecordFraming.WriteFooter(_frame, payloadCrc);
        Put(_frame.AsSpan(0, TfRecordFraming.FooterSize));
        return AddToIndex(payload.Length, payloadCrc, label, width, height);
    }

    /// <summary>
    /// Appends records framed by the caller (<see cref="TfRecordFraming.FrameInPlace"/>), in order, with one write;
    /// returns the position of the first in the shard. The buffers are only read, and only during the call.
    /// </summary>
    public int AppendFramed(IReadOnlyList<FramedRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        ObjectDisposedException.ThrowIf(_completed, this);
        int first = _offsets.Count;
        if (records.Count == 0)
        {
            return first;
        }

        // Whatever the simple path has gathered goes first: the file keeps the call order.
        FlushBlock();
        _segments.Clear();
        foreach (FramedRecord record in records)
        {
            if (record.Bytes.Length < TfRecordFraming.Overhead)
            {
                throw new ArgumentException($"A framed record is at least {TfRecordFraming.Overhead} bytes; got {record.Bytes.Length}.", nameof(records));
            }

            _segments.Add(record.Bytes);
        }

        RandomAccess.Write(_file, _segments, _written);
        foreach (FramedRecord record in records)
        {
            _sha256.AppendData(record.Bytes.Span);
            _written += record.Bytes.Length;
            AddToIndex(record.PayloadLength, record.PayloadCrc, record.Label, record.Width, record.Height);
        }

        _segments.Clear();
        return first;
    }

    /// <summary>Flushes, writes the index and the DALI index, renames everything into place (the shard last) and
    /// returns the shard's manifest entry.</summary>
    public ManifestShard Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        FlushBlock();
        _completed = true;
        _file.Dispose();
        string shardFile = Path.GetFileName(_shardPath);
        var index = new ShardIndex(shardFile, _position, [.. _offsets], [.. _lengths], [.. _crcs], [.. _labels],
                                   [.. _widths], [.. _heights]);
        string indexPath = ShardNaming.IndexPathFor(_shardPath);
        string daliPath = ShardNaming.DaliIndexPathFor(_shardPath);
        File.WriteAllBytes(indexPath + ".tmp", index.ToBytes());
        File.WriteAllText(daliPath + ".tmp", index.ToDaliIndexText());
        File.Move(indexPath + ".tmp", indexPath, overwrite: true);
        File.Move(daliPath + ".tmp", daliPath, overwrite: true);
        File.Move(_temporaryPath, _shardPath, overwrite: true);
        string sha256 = Convert.ToHexStringLower(_sha256.GetHashAndReset());
        return new ManifestShard(shardFile, Path.GetFileName(indexPath), Path.GetFileName(daliPath), index.Count, _position,
                                 sha256);
    }

    /// <summary>Without <see cref="Complete"/>, the partial shard is deleted.</summary>
    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            _file.Dispose();
            File.Delete(_temporaryPath);
        }

        _sha256.Dispose();
    }

    private int AddToIndex(int payloadLength, uint payloadCrc, int label, int width, int height)
    {
        _offsets.Add(_position);
        _lengths.Add(payloadLength);
        _crcs.Add(payloadCrc);
        _labels.Add(label);
        _widths.Add(width);
        _heights.Add(height);
        _position += payloadLength + TfRecordFraming.Overhead;
        return _offsets.Count - 1;
    }

    /// <summary>Copies bytes into the current block, writing each full block.</summary>
    private void Put(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int n = Math.Min(bytes.Length, BlockSize - _blockUsed);
            bytes[..n].CopyTo(_block.AsSpan(_blockUsed));
            _blockUsed += n;
            bytes = bytes[n..];
            if (_blockUsed == BlockSize)
            {
                FlushBlock();
            }
        }
    }

    /// <summary>Writes and hashes what the current block holds.</summary>
    private void FlushBlock()
    {
        if (_blockUsed == 0)
        {
            return;
        }

        ReadOnlySpan<byte> bytes = _block.AsSpan(0, _blockUsed);
        RandomAccess.Write(_file, bytes, _written);
        _sha256.AppendData(bytes);
        _written += _blockUsed;
        _blockUsed = 0;
    }
}
