using Google.Protobuf;
using Loader.Records.Format;
using Loader.Records.Protos.TensorFlow;

namespace Loader.Records.Tests.Format;

public class ExampleLocatorTests
{
    [Fact]
    public void TryLocate_AgreesWithGeneratedParser()
    {
        var random = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            byte[] image = new byte[random.Next(0, 5000)];
            random.NextBytes(image);
            var example = new ImageExample(image, random.Next(0, 1000), "n01440764", "tench", $"f{i}.jpg",
                                           random.Next(1, 70000), random.Next(1, 70000), 3);
            byte[] payload = example.ToPayload();

            Assert.True(ExampleLocator.TryLocate(payload, out LocatedExample located));
            Assert.Equal(image, payload.AsSpan(located.EncodedOffset, located.EncodedLength).ToArray());
            Assert.Equal(example.Label + 1, located.StoredLabel);
            Assert.Equal(example.Width, located.Width);
            Assert.Equal(example.Height, located.Height);

            ImageExample parsed = ImageExample.Parse(payload);
            Assert.Equal(example.Label, parsed.Label);
            Assert.Equal(image, parsed.Encoded.ToArray());
            Assert.Equal("tench", parsed.ClassText);
        }
    }

    [Fact]
    public void TryLocate_ReadsUnpackedInt64AndFeatureOrderFromOtherWriters()
    {
        // Keys in another order, and the label written unpacked (field 1, wire type 0), as some writers do.
        var features = new Features();
        features.Feature.Add("image/encoded", new Feature { BytesList = new BytesList { Value = { ByteString.CopyFrom(1, 2, 3) } } });
        features.Feature.Add("image/format", new Feature { BytesList = new BytesList { Value = { ByteString.CopyFromUtf8("JPEG") } } });
        byte[] payload = new Example { Features = features }.ToByteArray();
        // Append a map entry by hand: key "image/class/label", value Feature{int64_list{value: 42 (unpacked)}}.
        byte[] int64List = [0x08, 42];
        byte[] feature = [0x1A, (byte)int64List.Length, .. int64List];
        byte[] key = "image/class/label"u8.ToArray();
        byte[] entry = [0x0A, (byte)key.Length, .. key, 0x12, (byte)feature.Length, .. feature];
        byte[] featuresField = [0x0A, (byte)entry.Length, .. entry];
        byte[] extra = [0x0A, (byte)featuresField.Length, .. featuresField]; // Example.features again: protobuf merges.
        byte[] merged = [.. payload, .. extra];

        Assert.True(ExampleLocator.TryLocate(merged, out LocatedExample located));
        Assert.Equal(42, located.StoredLabel);
        Assert.Equal(new byte[] { 1, 2, 3 }, merged.AsSpan(located.EncodedOffset, located.EncodedLength).ToArray());
        Assert.Equal(41, ImageExample.Parse(merged).Label);
    }

    [Fact]
    public void TryLocate_RejectsGarbageAndTruncation_WithoutThrowing()
    {
        byte[] payload = new ImageExample(new byte[100], 1, "s", "t", "f", 1, 1, 3).ToPayload();
        for (int cut = 0; cut < payload.Length; cut += 7)
        {
            // A cut payload must either fail cleanly or (if the cut falls after image/encoded) still point inside it.
            if (ExampleLocator.TryLocate(payload.AsSpan(0, cut), out LocatedExample located))
            {
                Assert.True(located.EncodedOffset + located.EncodedLength <= cut);
            }
        }

        Assert.False(ExampleLocator.TryLocate([0xFF, 0xFF, 0xFF], out _));
        Assert.False(ExampleLocator.TryLocate([], out _));
    }
}
