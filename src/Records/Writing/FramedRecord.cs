using Loader.Records.Format;

namespace Loader.Records.Writing;

/// <summary>
/// One record already laid out as it goes into the shard (TFRecord header, payload, footer), with what the index
/// needs to know about it. Built on a worker thread (<see cref="TfRecordFraming.FrameInPlace"/>), then handed to
/// <see cref="ShardWriter.AppendFramed"/>, which writes it with no further copy.
/// </summary>
public readonly record struct FramedRecord(ReadOnlyMemory<byte> Bytes, uint PayloadCrc, int Label, int Width, int Height)
{
    public int PayloadLength => Bytes.Length - TfRecordFraming.Overhead;
}
