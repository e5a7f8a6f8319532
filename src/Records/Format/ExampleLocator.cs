using Loader.Records.Protos.TensorFlow;

namespace Loader.Records.Format;

/// <summary>Where the fields the hot path needs sit inside a tf.train.Example payload.</summary>
public readonly record struct LocatedExample(int EncodedOffset, int EncodedLength, long? StoredLabel, long? Width,
                                             long? Height);

/// <summary>
/// Finds <c>image/encoded</c>, the label and the size in a serialized tf.train.Example without allocating or
/// copying the image: the hot path of <see cref="RecordDataset.ReadImage"/>. This is a read-only walk over the
/// protobuf wire format using the field numbers of the generated types; the full parse
/// (<see cref="ImageExample.Parse"/>) is the generated parser, and the tests check both agree.
/// </summary>
/// <remarks>
/// The map entries and the features this reads have fast paths for the layout writers produce (one-byte tags, lengths
/// of one or two bytes, key before value, nothing else in the entry): 1.3 KB records took ~240 ns each with the general
/// walk alone, ~95 ns with them (make-records verify spends a third of its non-hash time here). Anything else takes
/// the general walk, and the answer is the same either way: the tests compare both (<see cref="TryLocateGeneral"/>) on
/// real and mutated payloads.
/// </remarks>
public static class ExampleLocator
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;
    private const int MapKeyField = 1;
    private const int MapValueField = 2;

    private static ReadOnlySpan<byte> EncodedKey => "image/encoded"u8;

    private static ReadOnlySpan<byte> LabelKey => "image/class/label"u8;

    private static ReadOnlySpan<byte> WidthKey => "image/width"u8;

    private static ReadOnlySpan<byte> HeightKey => "image/height"u8;

    /// <summary>Locates the image and label; false when the payload is malformed or has no image/encoded.</summary>
    public static bool TryLocate(ReadOnlySpan<byte> payload, out LocatedExample located) => Locate(payload, out located, fastPaths: true);

    /// <summary><see cref="TryLocate"/> by the general walk alone, without the fast paths: the tests' reference.</summary>
    internal static bool TryLocateGeneral(ReadOnlySpan<byte> payload, out LocatedExample located) => Locate(payload, out located, fastPaths: false);

    private static bool Locate(ReadOnlySpan<byte> payload, out LocatedExample located, bool fastPaths)
    {
        located = default;
        int encodedOffset = -1, encodedLength = 0;
        long? label = null, width = null, height = null;
        var example = new WireReader(payload, 0);
        while (example.TryReadField(out int field, out int wire, out int start, out int length))
        {
            if (field != Example.FeaturesFieldNumber || wire != WireLengthDelimited)
            {
                continue;
            }

            var features = new WireReader(payload[..(start + length)], start);
            while (features.TryReadField(out int ff, out int fw, out int entryStart, out int entryLength))
            {
                if (ff != Features.FeatureFieldNumber || fw != WireLengthDelimited)
                {
                    continue;
                }

                if (!TryReadMapEntry(payload, entryStart, entryLength, fastPaths, out ReadOnlySpan<byte> key, out int valueStart,
                                     out int valueLength))
                {
                    return false;
                }

                if (key.SequenceEqual(EncodedKey))
                {
                    if (!TryFirstBytes(payload, valueStart, valueLength, fastPaths, out encodedOffset, out encodedLength))
                    {
                        return false;
                    }
                }
                else if (key.SequenceEqual(LabelKey))
                {
                    label = FirstInt64(payload, valueStart, valueLength, fastPaths);
                }
                else if (key.SequenceEqual(WidthKey))
                {
                    width = FirstInt64(payload, valueStart, valueLength, fastPaths);
                }
                else if (key.SequenceEqual(HeightKey))
                {
                    height = FirstInt64(payload, valueStart, valueLength, fastPaths);
                }
            }

            if (features.Failed)
            {
                return false;
            }
        }

        if (example.Failed || encodedOffset < 0)
        {
            return false;
        }

        located = new LocatedExample(encodedOffset, encodedLength, label, width, height);
        return true;
    }

    private static bool TryReadMapEntry(ReadOnlySpan<byte> payload, int start, int length, bool fastPaths, out ReadOnlySpan<byte> key,
                                        out int valueStart, out int valueLength)
    {
        // The layout writers produce: the key (field 1, a short string), then the value (field 2), once each and
        // nothing else. Read directly; anything else takes the general loop below, which gives the same answer here.
        int end = start + length;
        if (fastPaths && length >= 4 && payload[start] == (MapKeyField << 3 | WireLengthDelimited) && payload[start + 1] < 0x80)
        {
            int keyEnd = start + 2 + payload[start + 1];
            int at = keyEnd + 1;
            if (at < end && payload[keyEnd] == (MapValueField << 3 | WireLengthDelimited)
                && TryReadShortLength(payload, ref at, end, out int size) && at + size == end)
            {
                key = payload.Slice(start + 2, payload[start + 1]);
                valueStart = at;
                valueLength = size;
                return true;
            }
        }

        key = default;
        valueStart = -1;
        valueLength = 0;
        var entry = new WireReader(payload[..end], start);
        while (entry.TryReadField(out int field, out int wire, out int s, out int l))
        {
            if (wire != WireLengthDelimited)
            {
                continue;
            }

            if (field == MapKeyField)
            {
                key = payload.Slice(s, l);
            }
            else if (field == MapValueField)
            {
                valueStart = s;
                valueLength = l;
            }
        }

        return !entry.Failed && valueStart >= 0;
    }

    private static bool TryFirstBytes(ReadOnlySpan<byte> payload, int start, int length, bool fastPaths, out int offset, out int count)
    {
        // Feature{bytes_list{value: first}} with one-byte tags: read directly (the general loop finds the same).
        int end = start + length;
        int at = start + 1;
        if (fastPaths && length >= 4 && payload[start] == (Feature.BytesListFieldNumber << 3 | WireLengthDelimited)
            && TryReadShortLength(payload, ref at, end, out int listLength) && at + listLength == end && at < end
            && payload[at] == (BytesList.ValueFieldNumber << 3 | WireLengthDelimited))
        {
            at++;
            if (TryReadShortLength(payload, ref at, end, out int valueLength) && valueLength <= end - at)
            {
                offset = at;
                count = valueLength;
                return true;
            }
        }

        offset = -1;
        count = 0;
        var feature = new WireReader(payload[..(start + length)], start);
        while (feature.TryReadField(out int field, out int wire, out int s, out int l))
        {
            if (field != Feature.BytesListFieldNumber || wire != WireLengthDelimited)
            {
                continue;
            }

            var list = new WireReader(payload[..(s + l)], s);
            while (list.TryReadField(out int lf, out int lw, out int vs, out int vl))
            {
                if (lf == BytesList.ValueFieldNumber && lw == WireLengthDelimited)
                {
                    offset = vs;
                    count = vl;
                    return true;
                }
            }
        }

        return false;
    }

    private static long? FirstInt64(ReadOnlySpan<byte> payload, int start, int length, bool fastPaths)
    {
        // Feature{int64_list{value: [packed run]}} of a short run, as writers produce it: the first varint of the run,
        // read directly (the general loop below returns the same).
        if (fastPaths && length >= 5 && length - 2 < 0x80 && payload[start] == (Feature.Int64ListFieldNumber << 3 | WireLengthDelimited)
            && payload[start + 1] == length - 2 && payload[start + 2] == (Int64List.ValueFieldNumber << 3 | WireLengthDelimited)
            && payload[start + 3] == length - 4)
        {
            var run = new WireReader(payload[..(start + length)], start + 4);
            return run.TryReadVarint(out ulong first) ? (long)first : null;
        }

        var feature = new WireReader(payload[..(start + length)], start);
        while (feature.TryReadField(out int field, out int wire, out int s, out int l))
        {
            if (field != Feature.Int64ListFieldNumber || wire != WireLengthDelimited)
            {
                continue;
            }

            var list = new WireReader(payload[..(s + l)], s);
            while (list.TryReadField(out int lf, out int lw, out int vs, out int vl))
            {
                if (lf != Int64List.ValueFieldNumber)
                {
                    continue;
                }

                if (lw == WireVarint)
                {
                    // TryReadField reports a varint field's value through start (low bits) and length (high bits).
                    return (long)(((ulong)(uint)vl << 32) | (uint)vs);
                }

                if (lw == WireLengthDelimited)
                {
                    // Packed: the first varint of the run.
                    var packed = new WireReader(payload[..(vs + vl)], vs);
                    return packed.TryReadVarint(out ulong value) ? (long)value : null;
                }
            }
        }

        return null;
    }

    /// <summary>A length varint of one or two bytes at <paramref name="at"/>, before <paramref name="end"/>; false for
    /// anything longer (the caller then takes the general path).</summary>
    private static bool TryReadShortLength(ReadOnlySpan<byte> payload, ref int at, int end, out int value)
    {
        value = 0;
        if (at >= end)
        {
            return false;
        }

        int first = payload[at];
        if (first < 0x80)
        {
            value = first;
            at++;
            return true;
        }

        if (at + 1 >= end || payload[at + 1] >= 0x80)
        {
            return false;
        }

        value = (first & 0x7F) | (payload[at + 1] << 7);
        at += 2;
        return true;
    }

    /// <summary>A cursor over protobuf fields; positions are absolute within the span it was given.</summary>
    private ref struct WireReader
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _position;

        public WireReader(ReadOnlySpan<byte> data, int position)
        {
            _data = data;
            _position = position;
        }

        public bool Failed { get; private set; }

        /// <summary>
        /// Reads the next field. Length-delimited: (start, length) of its bytes. Varint: the value split into
        /// (low 32 bits, high 32 bits). Fixed fields are skipped over and reported with their start.
        /// </summary>
        public bool TryReadField(out int field, out int wire, out int start, out int length)
        {
            field = wire = start = length = 0;
            if (Failed || _position >= _data.Length)
            {
                return false;
            }

            if (!TryReadVarint(out ulong tag) || tag >> 3 == 0 || tag >> 3 > int.MaxValue)
            {
                return Fail();
            }

            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            switch (wire)
            {
                case WireVarint:
                    if (!TryReadVarint(out ulong value))
                    {
                        return Fail();
                    }

                    start = (int)(uint)value;
                    length = (int)(uint)(value >> 32);
                    return true;
                case WireFixed64:
                    return Skip(8, out start);
                case WireFixed32:
                    return Skip(4, out start);
                case WireLengthDelimited:
                    if (!TryReadVarint(out ulong size) || size > (ulong)(_data.Length - _position))
                    {
                        return Fail();
                    }

                    start = _position;
                    length = (int)size;
                    _position += length;
                    return true;
                default:
                    return Fail();
            }
        }

        public bool TryReadVarint(out ulong value)
        {
            value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length)
                {
                    return false;
                }

                byte b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            return false;
        }

        private bool Skip(int count, out int start)
        {
            start = _position;
            if (_data.Length - _position < count)
            {
                return Fail();
            }

            _position += count;
            return true;
        }

        private bool Fail()
        {
            Failed = true;
            return false;
        }
    }
}
