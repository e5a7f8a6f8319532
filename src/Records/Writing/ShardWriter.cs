using System.Collections.Concurrent;
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
/// Framed records are gathered into 1 MiB blocks; each full block is written with one system call and added to the
/// shard's SHA-256. SHA-256 costs twice what the write does, so with <c>pipelined: true</c> it runs on a background
/// thread, block after block, while the caller writes and prepares the next records (the bytes and the hash are the
/// same either way). Without it, everything happens on the caller's thread.
/// </remarks>
public sealed class ShardWriter : IDisposable
{
    /// <summary>Bytes per write and per hash step: large enough that system calls cost nothing, small enough to
    /// keep a few in flight.</summary>
    internal const int BlockSize = 1 << 20;

    /// <summary>Blocks in flight when pipelined: one filling, the rest queued or being hashed.</summary>
    private const int PipelinedBlocks = 4;

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

    // Pipelined only: written blocks waiting for the hashing thread, and hashed blocks coming back.
    private readonly BlockingCollection<FilledBlock>? _written;
    private readonly BlockingCollection<byte[]>? _free;
    private readonly Task? _hashing;

    private byte[] _block;
    private int _blockUsed;
    private long _blockStart;
    private long _position;
    private bool _completed;

    public ShardWriter(string shardPath, bool pipelined = false)
    {
        _shardPath = shardPath;
        _temporaryPath = shardPath + ".tmp";
        _file = File.OpenHandle(_temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None);
        if (pipelined)
        {
            _free = new BlockingCollection<byte[]>(PipelinedBlocks);
            for (int i = 1; i < PipelinedBlocks; i++)
            {
                _free.Add(GC.AllocateUninitializedArray<byte>(BlockSize));
            }

            _written = new BlockingCollection<FilledBlock>(PipelinedBlocks);
            _hashing = Task.Factory.StartNew(HashLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        _block = GC.AllocateUninitializedArray<byte>(BlockSize);
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

        _offsets.Add(_position);
        _lengths.Add(payload.Length);
        _crcs.Add(payloadCrc);
        _labels.Add(label);
        _widths.Add(width);
        _heights.Add(height);
        _position += payload.Length + TfRecordFraming.Overhead;
        return _offsets.Count - 1;
    }

    /// <summary>Flushes, writes the index and the DALI index, renames everything into place (the shard last) and
    /// returns the shard's manifest entry.</summary>
    public ManifestShard Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        if (_blockUsed > 0)
        {
            Submit();
        }

        StopHashing();
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
            StopHashing();
            _file.Dispose();
            File.Delete(_temporaryPath);
        }

        _written?.Dispose();
        _free?.Dispose();
        _sha256.Dispose();
    }

    /// <summary>Copies bytes into the current block, handing each full block on.</summary>
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
                Submit();
            }
        }
    }

    /// <summary>Writes the current block, then hashes it here (fast path) or hands it to the hashing thread.</summary>
    private void Submit()
    {
        ReadOnlySpan<byte> bytes = _block.AsSpan(0, _blockUsed);
        RandomAccess.Write(_file, bytes, _blockStart);
        _blockStart += _blockUsed;
        if (_written is null)
        {
            _sha256.AppendData(bytes);
        }
        else
        {
            _written.Add(new FilledBlock(_block, _blockUsed));
            _block = _free!.Take();
        }

        _blockUsed = 0;
    }

    /// <summary>The hashing thread: written blocks in file order.</summary>
    private void HashLoop()
    {
        foreach (FilledBlock block in _written!.GetConsumingEnumerable())
        {
            _sha256.AppendData(block.Bytes.AsSpan(0, block.Length));
            _free!.Add(block.Bytes);
        }
    }

    private void StopHashing()
    {
        if (_hashing is not null && !_written!.IsAddingCompleted)
        {
            _written.CompleteAdding();
            _hashing.GetAwaiter().GetResult();
        }
    }

    private readonly record struct FilledBlock(byte[] Bytes, int Length);
}
