using System.Text;

namespace Loader.Records.Format;

/// <summary>
/// Serializes an <see cref="ImageExample"/> straight into a caller's buffer: exactly the bytes the generated
/// <c>tf.train.Example</c> code writes for <see cref="ImageExample.ToMessage"/> (same fields, same order), without
/// building ten messages and a map per record. This is make-records' hot path; the generated code stays the
/// reference (tests compare the bytes) and the parser for everything read back.
/// </summary>
/// <remarks>
/// Wire layout: <c>Example { 1: Features { 1: entry* } }</c>, each map entry <c>{ 1: key, 2: Feature }</c>, a
/// Feature either <c>{ 1: BytesList { 1: bytes } }</c> or <c>{ 3: Int64List { 1: packed varints } }</c>. The JPEG is
/// the last field, so it ends the payload.
/// </remarks>
public static class ImageExamplePayload
{
    private const byte FieldOneBytes = 0x0A;   // field 1, length-delimited
    private const byte FieldTwoBytes = 0x12;   // field 2, length-delimited (map entry value)
    private const byte FieldThreeBytes = 0x1A; // field 3, length-delimited (Feature.int64_list)

    /// <summary>Payload bytes for <paramref name="example"/>.</summary>
    public static int Size(ImageExample example)
    {
        int features = FeaturesSize(example);
        return 1 + VarintSize((uint)features) + features;
    }

    /// <summary>Writes the payload into <paramref name="destination"/> (at least <see cref="Size"/> bytes); returns
    /// the bytes written.</summary>
    public static int Write(ImageExample example, Span<byte> destination)
    {
        int features = FeaturesSize(example);
        var writer = new Writer(destination);
        writer.Tag(FieldOneBytes);
        writer.Varint((uint)features);
        writer.Int64Entry(ImageFeatureKeys.Height, example.Height);
        writer.Int64Entry(ImageFeatureKeys.Width, example.Width);
        writer.BytesEntry(ImageFeatureKeys.Colorspace, ImageExample.ColorspaceOf(example.Channels));
        writer.Int64Entry(ImageFeatureKeys.Channels, example.Channels);
        writer.Int64Entry(ImageFeatureKeys.Label, example.Label + 1L);
        writer.BytesEntry(ImageFeatureKeys.Synset, example.Synset);
        writer.BytesEntry(ImageFeatureKeys.Text, example.ClassText);
        writer.BytesEntry(ImageFeatureKeys.Format, example.ImageFormat);
        writer.BytesEntry(ImageFeatureKeys.FileName, example.FileName);
        writer.BytesEntry(ImageFeatureKeys.Encoded, example.Encoded.Span);
        return writer.Position;
    }

    private static int FeaturesSize(ImageExample example) =>
        Int64EntrySize(ImageFeatureKeys.Height, example.Height)
        + Int64EntrySize(ImageFeatureKeys.Width, example.Width)
        + BytesEntrySize(ImageFeatureKeys.Colorspace, Utf8Length(ImageExample.ColorspaceOf(example.Channels)))
        + Int64EntrySize(ImageFeatureKeys.Channels, example.Channels)
        + Int64EntrySize(ImageFeatureKeys.Label, example.Label + 1L)
        + BytesEntrySize(ImageFeatureKeys.Synset, Utf8Length(example.Synset))
        + BytesEntrySize(ImageFeatureKeys.Text, Utf8Length(example.ClassText))
        + BytesEntrySize(ImageFeatureKeys.Format, Utf8Length(example.ImageFormat))
        + BytesEntrySize(ImageFeatureKeys.FileName, Utf8Length(example.FileName))
        + BytesEntrySize(ImageFeatureKeys.Encoded, example.Encoded.Length);

    // Sizes of the nested messages, innermost first; each Delimited adds a tag byte and the length varint.
    private static int Int64ListSize(long value) => Delimited(VarintSize((ulong)value));

    private static int Int64FeatureSize(long value) => Delimited(Int64ListSize(value));

    private static int BytesListSize(int length) => Delimited(length);

    private static int BytesFeatureSize(int length) => Delimited(BytesListSize(length));

    private static int EntrySize(string key, int featureSize) => Delimited(Utf8Length(key)) + Delimited(featureSize);

    private static int Int64EntrySize(string key, long value) => Delimited(EntrySize(key, Int64FeatureSize(value)));

    private static int BytesEntrySize(string key, int length) => Delimited(EntrySize(key, BytesFeatureSize(length)));

    private static int Delimited(int length) => 1 + VarintSize((uint)length) + length;

    private static int Utf8Length(string text) => Encoding.UTF8.GetByteCount(text);

    private static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private ref struct Writer(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Position { get; private set; }

        public void Tag(byte tag) => _destination[Position++] = tag;

        public void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _destination[Position++] = (byte)(value | 0x80);
                value >>= 7;
            }

            _destination[Position++] = (byte)value;
        }

        public void Int64Entry(string key, long value)
        {
            int list = Int64ListSize(value);
            int feature = Delimited(list);
            EntryHeader(key, feature);
            Tag(FieldThreeBytes);
            Varint((uint)list);
            Tag(FieldOneBytes);
            Varint((uint)VarintSize((ulong)value));
            Varint((ulong)value);
        }

        public void BytesEntry(string key, string value)
        {
            int length = Utf8Length(value);
            BytesEntryHeader(key, length);
            Position += Encoding.UTF8.GetBytes(value, _destination[Position..]);
        }

        public void BytesEntry(string key, ReadOnlySpan<byte> value)
        {
            BytesEntryHeader(key, value.Length);
            value.CopyTo(_destination[Position..]);
            Position += value.Length;
        }

        private void BytesEntryHeader(string key, int length)
        {
            int list = BytesListSize(length);
            EntryHeader(key, Delimited(list));
            Tag(FieldOneBytes);
            Varint((uint)list);
            Tag(FieldOneBytes);
            Varint((uint)length);
        }

        /// <summary>The map entry's tag and length, its key, and the tag and length of its Feature value.</summary>
        private void EntryHeader(string key, int featureSize)
        {
            Tag(FieldOneBytes);
            Varint((uint)EntrySize(key, featureSize));
            Tag(FieldOneBytes);
            Varint((uint)Utf8Length(key));
            Position += Encoding.UTF8.GetBytes(key, _destination[Position..]);
            Tag(FieldTwoBytes);
            Varint((uint)featureSize);
        }
    }
}
