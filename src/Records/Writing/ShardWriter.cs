using System.Security.Cryptography;
using Loader.Records.Format;
using Loader.Records.Index;

namespace Loader.Records.Writing;

/// <summary>
/// Writes one shard: TFRecord-framed payloads, then its index and DALI index. Everything is written under
/// temporary names (<c>*.tmp</c>) and renamed on <see cref="Complete"/>, the shard last, so a killed run never
/// leaves a shard that looks finished. Not thread-safe: one writer per shard.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    private readonly string _shardPath;
    private readonly string _temporaryPath;
    private readonly FileStream _stream;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly List<long> _offsets = [];
    private readonly List<int> _lengths = [];
    private readonly List<uint> _crcs = [];
    private readonly List<int> _labels = [];
    private readonly List<int> _widths = [];
    private readonly List<int> _heights = [];
    private readonly byte[] _frame = new byte[TfRecordFraming.HeaderSize];
    private long _position;
    private bool _completed;

    public ShardWriter(string shardPath)
    {
        _shardPath = shardPath;
        _temporaryPath = shardPath + ".tmp";
        _stream = new FileStream(_temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
    }

    public int Count => _offsets.Count;

    /// <summary>Appends one record; returns its position in the shard.</summary>
    public int Append(ReadOnlySpan<byte> payload, int label, int width, int height)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        uint crc = Crc32C.Compute(payload);
        TfRecordFraming.WriteHeader(_frame, payload.Length);
        Write(_frame);
        Write(payload);
        TfRecordFraming.WriteFooter(_frame, crc);
        Write(_frame.AsSpan(0, TfRecordFraming.FooterSize));

        _offsets.Add(_position);
        _lengths.Add(payload.Length);
        _crcs.Add(crc);
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
        _stream.Flush();
        _stream.Dispose();
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
        _sha256.Dispose();
        if (!_completed)
        {
            _completed = true;
            _stream.Dispose();
            File.Delete(_temporaryPath);
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        _sha256.AppendData(bytes);
    }
}
