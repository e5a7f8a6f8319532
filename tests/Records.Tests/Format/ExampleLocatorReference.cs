using Loader.Records.Format;
using Loader.Records.Protos.TensorFlow;

namespace Loader.Records.Tests.Format;

/// <summary>
/// <see cref="ExampleLocator"/>'s walk as it was before its fast paths for the common layout (one-byte tags, short
/// lengths, key before value): the general protobuf walk only. The tests check that the product's fast paths give
/// exactly this walk's answer, on real payloads and on mutated ones.
/// </summary>
internal static class ExampleLocatorReference
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
    public static bool TryLocate(ReadOnlySpan<byte> payload, out LocatedExample located)
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

                if (!TryReadMapEntry(payload, entryStart, entryLength, out ReadOnlySpan<byte> key, out int valueStart,
                                     out int valueLength))
                {
                    return false;
                }

                if (key.SequenceEqual(EncodedKey))
                {
                    if (!TryFirstBytes(payload, valueStart, valueLength, out encodedOffset, out encodedLength))
                    {
                        return false;
                    }
                }
                else if (key.SequenceEqual(LabelKey))
                {
                    label = FirstInt64(payload, valueStart, valueLength);
                }
                else if (key.SequenceEqual(WidthKey))
                {
                    width = FirstInt64(payload, valueStart, valueLength);
                }
                else if (key.SequenceEqual(HeightKey))
                {
                    height = FirstInt64(payload, valueStart, valueLength);
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

    private static bool TryReadMapEntry(ReadOnlySpan<byte> payload, int start, int length, out ReadOnlySpan<byte> key,
                                        out int valueStart, out int valueLength)
    {
        key = default;
        valueStart = -1;
        valueLength = 0;
        var entry = new WireReader(payload[..(start + length)], start);
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

    private static bool TryFirstBytes(ReadOnlySpan<byte> payload, int start, int length, out int offset, out int count)
    {
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

    private static long? FirstInt64(ReadOnlySpan<byte> payload, int start, int length)
    {
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
