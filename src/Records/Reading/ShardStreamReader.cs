using System.Buffers;
using System.IO.Pipelines;
using Loader.Records.Format;

namespace Loader.Records.Reading;

/// <summary>One record seen by <see cref="ShardStreamReader"/>. <see cref="Payload"/> is valid until the next read.</summary>
public readonly record struct StreamedRecord(int RecordInShard, long Offset, ReadOnlyMemory<byte> Payload, uint Crc);

/// <summary>
/// Reads a shard front to back through System.IO.Pipelines: whole-shard scans (verify, re-index, TFRecord input).
/// Checks the framing and, unless disabled, both CRCs of every record; a truncated file or a bad CRC raises a
/// <see cref="RecordCorruptException"/> naming the shard and record. Payloads that straddle pipe segments are copied
/// into one pooled buffer; the rest are handed out in place.
/// </summary>
public sealed class ShardStreamReader : IDisposable
{
    private readonly string _path;
    private readonly bool _verifyCrc;
    private readonly FileStream _stream;
    private readonly PipeReader _reader;
    private ReadOnlySequence<byte> _buffer;
    private SequencePosition? _consumed;
    private byte[] _scratch = [];
    private long _offset;
    private int _record;
    private bool _completed;
    private bool _haveBuffer;

    /// <param name="path">The shard.</param>
    /// <param name="verifyCrc">Check both CRCs of every record.</param>
    /// <param name="bufferSize">Bytes per read.</param>
    /// <param name="sha256">When given, every byte read from the file is fed to it: once <see cref="Read"/> has
    /// returned null (a clean end), it has hashed the whole file.</param>
    public ShardStreamReader(string path, bool verifyCrc = true, int bufferSize = 1 << 20, System.Security.Cryptography.IncrementalHash? sha256 = null)
    {
        _path = path;
        _verifyCrc = verifyCrc;
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1,
                                 FileOptions.SequentialScan | FileOptions.Asynchronous);
        Stream source = sha256 is null ? _stream : new Sha256ReadStream(_stream, sha256);
        _reader = PipeReader.Create(source, new StreamPipeReaderOptions(bufferSize: bufferSize, minimumReadSize: bufferSize / 4,
                                                                        leaveOpen: true));
    }

    public string Path => _path;

    /// <summary>Bytes consumed so far: the offset where the next record starts.</summary>
    public long Position => _offset;

    /// <summary>Reads the next record; null at a clean end of the file.</summary>
    public async ValueTask<StreamedRecord?> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_consumed is { } consumed)
        {
            _reader.AdvanceTo(consumed);
            _consumed = null;
            _haveBuffer = false;
        }

        // Header: the length and its CRC.
        ReadOnlySequence<byte> buffer = await FillAsync(TfRecordFraming.HeaderSize, cancellationToken).ConfigureAwait(false);
        if (buffer.Length == 0 && _completed)
        {
            return null;
        }

        if (buffer.Length < TfRecordFraming.HeaderSize)
        {
            throw Truncated(TfRecordFraming.HeaderSize, buffer.Length);
        }

        Span<byte> header = stackalloc byte[TfRecordFraming.HeaderSize];
        buffer.Slice(0, TfRecordFraming.HeaderSize).CopyTo(header);
        bool headerOk = TfRecordFraming.TryReadHeader(header, out long payloadLength);
        if (!headerOk || payloadLength > TfRecordFraming.MaxPayloadLength)
        {
            // Without a trustworthy length the framing is lost: nothing after this point can be read in order.
            throw new RecordCorruptException(_path, _record,
                $"length field at offset {_offset} fails its CRC (framing lost; later records cannot be read in order)");
        }

        long recordLength = payloadLength + TfRecordFraming.Overhead;
        buffer = await FillAsync(recordLength, cancellationToken).ConfigureAwait(false);
        if (buffer.Length < recordLength)
        {
            throw Truncated(recordLength, buffer.Length);
        }

        ReadOnlySequence<byte> payloadSequence = buffer.Slice(TfRecordFraming.HeaderSize, payloadLength);
        ReadOnlyMemory<byte> payload;
        if (payloadSequence.IsSingleSegment)
        {
            payload = payloadSequence.First;
        }
        else
        {
            if (_scratch.Length < payloadLength)
            {
                _scratch = new byte[(int)Math.Min(Math.Max(payloadLength, _scratch.Length * 2L), int.MaxValue)];
            }

            payloadSequence.CopyTo(_scratch);
            payload = _scratch.AsMemory(0, (int)payloadLength);
        }

        Span<byte> footer = stackalloc byte[TfRecordFraming.FooterSize];
        buffer.Slice(TfRecordFraming.HeaderSize + payloadLength, TfRecordFraming.FooterSize).CopyTo(footer);
        uint crc = Crc32C.Compute(payload.Span);
        if (_verifyCrc && crc != TfRecordFraming.ReadFooterCrc(footer))
        {
            throw new RecordCorruptException(_path, _record, $"payload CRC-32C mismatch (record at offset {_offset})");
        }

        var record = new StreamedRecord(_record, _offset, payload, crc);
        _consumed = buffer.GetPosition(recordLength);
        _offset += recordLength;
        _record++;
        return record;
    }

    /// <summary>Synchronous <see cref="ReadAsync"/> for callers that are not async (the pipe reads a local file).</summary>
    public StreamedRecord? Read() => ReadAsync().AsTask().GetAwaiter().GetResult();

    public void Dispose()
    {
        _reader.Complete();
        _stream.Dispose();
    }

    private async ValueTask<ReadOnlySequence<byte>> FillAsync(long needed, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_haveBuffer)
            {
                if (_buffer.Length >= needed || _completed)
                {
                    return _buffer;
                }

                // Nothing consumed, everything examined: the pipe must read more before it returns again.
                _reader.AdvanceTo(_buffer.Start, _buffer.End);
                _haveBuffer = false;
            }

            ReadResult result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            _buffer = result.Buffer;
            _completed = result.IsCompleted;
            _haveBuffer = true;
        }
    }

    private RecordCorruptException Truncated(long needed, long available) =>
        new(_path, _record,
            $"truncated: the record at offset {_offset} needs {needed} bytes but the file ends after {available} (file size {_offset + available})");
}
