using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using K4os.Compression.LZ4;
using Loader.Records;
using Loader.Records.Format;
using Loader.Records.Index;
using Loader.Records.Jpeg;
using Loader.Records.Reading;

namespace Loader.Tools.Fuzz;

/// <summary>
/// One entry point per parser of untrusted bytes. Each one feeds the input to the parser, treats only the parser's
/// documented "bad input" outcomes as expected (a <see cref="RecordCorruptException"/>, an
/// <see cref="InvalidDataException"/>, protobuf's <see cref="InvalidProtocolBufferException"/> where the generated
/// parser is the contract, a false return), and lets everything else escape: an IndexOutOfRange, a NullReference,
/// an overflow, an OutOfMemory, a broken invariant of the result (<see cref="FuzzFindingException"/>), or an
/// allocation far beyond the input's size. AFL (through SharpFuzz) records an escaped exception as a crash; the
/// replay test in tests/Records.Tests/Fuzzing runs the same entry points over the committed corpus.
/// </summary>
/// <remarks>
/// The first byte of an input is a mode byte for the framing and index targets: it lets the fuzzer get past CRCs
/// (which random mutation never satisfies) by asking the harness to repair them, so the code behind the checks is
/// fuzzed too, while mode 0 still fuzzes the checks themselves.
/// </remarks>
public static class FuzzTargets
{
    /// <summary>The targets by name, as run.sh and the replay test name them.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["framing"] = Framing,
        ["example"] = Example,
        ["index"] = Index,
        ["manifest"] = Manifest,
        ["jpeg"] = Jpeg,
        ["sample"] = SampleTarget.Run,
    };

    /// <summary>
    /// TFRecord framing, read by <see cref="ShardStreamReader"/> (every whole-shard scan) from a file holding the
    /// input. Mode bit 0: repair both CRCs of every record first; bit 1: read without CRC checks. A small pipe buffer
    /// makes payloads straddle segments, so the copy path is fuzzed too.
    /// </summary>
    public static void Framing(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        byte mode = input[0];
        byte[] shard = input[1..];
        if ((mode & 1) != 0)
        {
            RepairCrcs(shard);
        }

        string path = Path.Combine(Path.GetTempPath(), $"records-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}.tfrecord");
        File.WriteAllBytes(path, shard);
        try
        {
            var budget = AllocationBudget.Start(shard.Length, perInputByte: 4, fixedBytes: 4 << 20);
            using (var reader = new ShardStreamReader(path, verifyCrc: (mode & 2) == 0, bufferSize: 4096))
            {
                long expectedOffset = 0;
                int expectedRecord = 0;
                try
                {
                    while (reader.Read() is { } record)
                    {
                        if (record.Offset != expectedOffset || record.RecordInShard != expectedRecord
                            || record.Offset + record.Payload.Length + TfRecordFraming.Overhead > shard.Length)
                        {
                            throw new FuzzFindingException(
                                $"framing: record {record.RecordInShard} at {record.Offset} ({record.Payload.Length} bytes) does not follow record {expectedRecord - 1} in a {shard.Length}-byte file");
                        }

                        expectedOffset = record.Offset + record.Payload.Length + TfRecordFraming.Overhead;
                        expectedRecord++;
                    }
                }
                catch (RecordCorruptException)
                {
                    // Bad framing, a bad CRC, a truncated file: the documented outcome.
                }
            }

            budget.Check("framing", shard.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A tf.train.Example payload: the hot path's <see cref="ExampleLocator"/> (never throws; false for bad input)
    /// and the generated parser behind <see cref="ImageExample.Parse"/> (InvalidDataException or
    /// InvalidProtocolBufferException for bad input).
    /// </summary>
    public static void Example(byte[] input)
    {
        var budget = AllocationBudget.Start(input.Length, perInputByte: 64, fixedBytes: 1 << 20);
        if (ExampleLocator.TryLocate(input, out LocatedExample located)
            && (located.EncodedOffset < 0 || located.EncodedLength < 0
                || (long)located.EncodedOffset + located.EncodedLength > input.Length))
        {
            throw new FuzzFindingException(
                $"example: image/encoded located at {located.EncodedOffset} ({located.EncodedLength} bytes) in a {input.Length}-byte payload");
        }

        try
        {
            ImageExample example = ImageExample.Parse(input);
            if (example.Encoded.Length > input.Length)
            {
                throw new FuzzFindingException($"example: {example.Encoded.Length} encoded bytes from a {input.Length}-byte payload");
            }
        }
        catch (Exception e) when (e is InvalidDataException or RecordFormatException or InvalidProtocolBufferException)
        {
            // Not an Example, or one without image bytes: the documented outcome.
        }

        budget.Check("example", input.Length);
    }

    /// <summary>
    /// A shard index (<see cref="ShardIndex.FromBytes"/>). Mode byte % 3: 0 = the rest is an index file as is;
    /// 1 = the rest is the uncompressed index message, wrapped here with the magic, length, CRC and LZ4 as the
    /// writer does (so the protobuf and the column checks are reached); 2 = the rest is DALI's text index
    /// (<see cref="ShardIndex.ParseDaliIndex"/>).
    /// </summary>
    public static void Index(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        int mode = input[0] % 3;
        byte[] rest = input[1..];
        if (mode == 2)
        {
            var textBudget = AllocationBudget.Start(rest.Length, perInputByte: 64, fixedBytes: 1 << 20);
            try
            {
                ShardIndex.ParseDaliIndex(Encoding.UTF8.GetString(rest), "fuzz.idx");
            }
            catch (InvalidDataException)
            {
                // A line that is not "offset length": the documented outcome.
            }

            textBudget.Check("index (DALI text)", rest.Length);
            return;
        }

        byte[] file = mode == 1 ? WrapIndex(rest) : rest;
        // A one-byte packed varint becomes an 8-byte column value, allocated about four times over (the proto's
        // list as it doubles, the index's array): about 32 bytes per message byte, budgeted at 64. The message is
        // the input in mode 1; in mode 0 it is what the LZ4 block decodes to, at most 255 times the file.
        var budget = mode == 1
            ? AllocationBudget.Start(rest.Length, perInputByte: 64, fixedBytes: 1 << 20)
            : AllocationBudget.Start(file.Length, perInputByte: 64 * 255, fixedBytes: 1 << 20);
        try
        {
            ShardIndex index = ShardIndex.FromBytes(file, "fuzz.index");
            int n = index.Count;
            if (index.Lengths.Length != n || index.Crcs.Length != n || index.Labels.Length != n
                || index.Widths.Length != n || index.Heights.Length != n)
            {
                throw new FuzzFindingException("index: columns of different lengths were accepted");
            }
        }
        catch (Exception e) when (e is InvalidDataException or RecordFormatException)
        {
            // Not an index, or a corrupt one: the documented outcome.
        }

        budget.Check("index", file.Length);
    }

    /// <summary>
    /// manifest.json (<see cref="DatasetManifest.FromJson"/>): RecordFormatException (naming the field) for bad input. A manifest it
    /// accepts must be usable as the readers use it: every shard and class present, with its names.
    /// </summary>
    public static void Manifest(byte[] input)
    {
        var budget = AllocationBudget.Start(input.Length, perInputByte: 64, fixedBytes: 1 << 20);
        string json = Encoding.UTF8.GetString(input);
        DatasetManifest manifest;
        try
        {
            manifest = DatasetManifest.FromJson(json, "manifest.json");
        }
        catch (Exception e) when (e is InvalidDataException or RecordFormatException)
        {
            budget.Check("manifest", input.Length);
            return; // Not a manifest: the documented outcome.
        }

        // What RecordDataset.Open and verify do with an accepted manifest: name every shard's files, every class.
        long names = manifest.Name.Length;
        foreach (ManifestShard shard in manifest.Shards)
        {
            names += shard.File.Length + shard.Index.Length + shard.DaliIndex.Length + shard.Sha256.Length;
        }

        foreach (ManifestClass c in manifest.Classes)
        {
            names += c.Synset.Length + c.Name.Length;
        }

        if (names < 0)
        {
            throw new FuzzFindingException("manifest: name lengths overflowed");
        }

        budget.Check("manifest", input.Length);
    }

    /// <summary>The JPEG header walk (<see cref="JpegHeader.TryParse"/>): never throws; false with a reason for bad input.</summary>
    public static void Jpeg(byte[] input)
    {
        var budget = AllocationBudget.Start(input.Length, perInputByte: 1, fixedBytes: 64 << 10);
        if (JpegHeader.TryParse(input, out JpegInfo info, out string? problem))
        {
            if (info.Width <= 0 || info.Height <= 0 || info.Components <= 0 || problem is not null)
            {
                throw new FuzzFindingException($"jpeg: accepted a {info.Width}x{info.Height} frame with {info.Components} components");
            }
        }
        else if (string.IsNullOrEmpty(problem))
        {
            throw new FuzzFindingException("jpeg: refused without saying why");
        }

        budget.Check("jpeg", input.Length);
    }

    /// <summary>Rewrites the length CRC and payload CRC of every record the lengths reach, as a writer would.</summary>
    internal static void RepairCrcs(Span<byte> shard)
    {
        long position = 0;
        while (position + TfRecordFraming.HeaderSize <= shard.Length)
        {
            Span<byte> header = shard.Slice((int)position, TfRecordFraming.HeaderSize);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Mask(Crc32C.Compute(header[..8])));
            long room = shard.Length - position - TfRecordFraming.Overhead;
            if (room < 0 || length > (ulong)room)
            {
                return;
            }

            int start = (int)position + TfRecordFraming.HeaderSize;
            uint crc = Crc32C.Compute(shard.Slice(start, (int)length));
            TfRecordFraming.WriteFooter(shard[(start + (int)length)..], crc);
            position += (long)length + TfRecordFraming.Overhead;
        }
    }

    /// <summary>An index file around an uncompressed index message, exactly as <see cref="ShardIndex.ToBytes"/> lays it out.</summary>
    internal static byte[] WrapIndex(ReadOnlySpan<byte> raw)
    {
        byte[] compressed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        int written = LZ4Codec.Encode(raw, compressed, LZ4Level.L00_FAST);
        byte[] file = new byte[16 + written];
        "LDRIDX01"u8.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(8), raw.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), Crc32C.Compute(raw));
        compressed.AsSpan(0, written).CopyTo(file.AsSpan(16));
        return file;
    }
}
