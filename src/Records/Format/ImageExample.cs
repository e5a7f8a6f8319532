using Google.Protobuf;
using Loader.Records.Protos.TensorFlow;

namespace Loader.Records.Format;

/// <summary>
/// The fields of one image record. <see cref="Label"/> is 0-based here; the Example stores it 1-based, as
/// TensorFlow's ImageNet scripts do (0 is their background class).
/// </summary>
public sealed record ImageExample(ReadOnlyMemory<byte> Encoded, int Label, string Synset, string ClassText,
                                  string FileName, int Width, int Height, int Channels, string ImageFormat = "JPEG")
{
    /// <summary>Serializes to tf.train.Example bytes with the generated protobuf types (insertion order is kept,
    /// so the bytes are deterministic).</summary>
    public byte[] ToPayload() => ToMessage().ToByteArray();

    /// <summary>The generated message (the reference for <see cref="ImageExamplePayload"/>, which writes the same bytes
    /// without building it).</summary>
    public Example ToMessage()
    {
        var features = new Features();
        features.Feature.Add(ImageFeatureKeys.Height, Int64(Height));
        features.Feature.Add(ImageFeatureKeys.Width, Int64(Width));
        features.Feature.Add(ImageFeatureKeys.Colorspace, Bytes(ColorspaceOf(Channels)));
        features.Feature.Add(ImageFeatureKeys.Channels, Int64(Channels));
        features.Feature.Add(ImageFeatureKeys.Label, Int64(Label + 1L));
        features.Feature.Add(ImageFeatureKeys.Synset, Bytes(Synset));
        features.Feature.Add(ImageFeatureKeys.Text, Bytes(ClassText));
        features.Feature.Add(ImageFeatureKeys.Format, Bytes(ImageFormat));
        features.Feature.Add(ImageFeatureKeys.FileName, Bytes(FileName));
        features.Feature.Add(ImageFeatureKeys.Encoded, new Feature
        {
            // Wrap, do not copy: the JPEG is copied once, into the serialized payload.
            BytesList = new BytesList { Value = { UnsafeByteOperations.UnsafeWrap(Encoded) } },
        });
        return new Example { Features = features };
    }

    /// <summary>The <c>image/colorspace</c> value TensorFlow's ImageNet scripts write.</summary>
    internal static string ColorspaceOf(int channels) => channels == 1 ? "Grayscale" : "RGB";

    /// <summary>Parses a payload with the generated types (slow path: inspect, verify, foreign records).</summary>
    /// <param name="payload">tf.train.Example bytes.</param>
    /// <param name="labelBase">What the stored label of class 0 is: 1 for TensorFlow's ImageNet convention.</param>
    public static ImageExample Parse(ReadOnlySpan<byte> payload, int labelBase = 1)
    {
        Example example = Example.Parser.ParseFrom(payload);
        var map = example.Features?.Feature;
        if (map is null || !map.TryGetValue(ImageFeatureKeys.Encoded, out Feature? encoded) || encoded.BytesList is null
            || encoded.BytesList.Value.Count == 0)
        {
            throw new InvalidDataException("the tf.train.Example has no image/encoded bytes");
        }

        return new ImageExample(
            encoded.BytesList.Value[0].Memory,
            (int)(GetInt64(map, ImageFeatureKeys.Label) ?? labelBase) - labelBase,
            GetString(map, ImageFeatureKeys.Synset) ?? string.Empty,
            GetString(map, ImageFeatureKeys.Text) ?? string.Empty,
            GetString(map, ImageFeatureKeys.FileName) ?? string.Empty,
            (int)(GetInt64(map, ImageFeatureKeys.Width) ?? 0),
            (int)(GetInt64(map, ImageFeatureKeys.Height) ?? 0),
            (int)(GetInt64(map, ImageFeatureKeys.Channels) ?? 0),
            GetString(map, ImageFeatureKeys.Format) ?? string.Empty);
    }

    private static Feature Int64(long value) => new() { Int64List = new Int64List { Value = { value } } };

    private static Feature Bytes(string value) =>
        new() { BytesList = new BytesList { Value = { ByteString.CopyFromUtf8(value) } } };

    private static long? GetInt64(Google.Protobuf.Collections.MapField<string, Feature> map, string key) =>
        map.TryGetValue(key, out Feature? f) && f.Int64List is { Value.Count: > 0 } list ? list.Value[0] : null;

    private static string? GetString(Google.Protobuf.Collections.MapField<string, Feature> map, string key) =>
        map.TryGetValue(key, out Feature? f) && f.BytesList is { Value.Count: > 0 } list ? list.Value[0].ToStringUtf8() : null;
}
