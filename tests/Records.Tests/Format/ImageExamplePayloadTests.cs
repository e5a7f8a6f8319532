using Loader.Records.Format;

namespace Loader.Records.Tests.Format;

public class ImageExamplePayloadTests
{
    public static TheoryData<int, int, int, int, string, string, string> Cases => new()
    {
        // image bytes, label, width/height, channels, synset, class text, file name: sizes chosen so that every
        // length varint takes 1, 2 and 3 bytes somewhere, plus empty strings, non-ASCII text and a negative label.
        { 0, 0, 1, 1, "", "", "" },
        { 100, 0, 500, 3, "n01440764", "tench, Tinca tinca", "n01440764/n01440764_tench.JPEG" },
        { 127, 999, 127, 3, "n15075141", "toilet tissue", "a.jpg" },
        { 128, 1, 128, 1, "n0", "caf\u00e9 \u732b", "\u00fc/\u00e9.JPEG" },
        { 16_383, 5, 16_384, 3, "s", new string('t', 130), new string('f', 200) },
        { 16_384, -5, 70_000, 3, "s", "t", "f" },
        { 2_100_000, 123_456, int.MaxValue, 3, "n02084071", "dog", "dogs/x.jpg" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Write_GivesTheGeneratedCodesBytes(int imageBytes, int label, int side, int channels, string synset, string text,
                                                   string fileName)
    {
        byte[] image = new byte[imageBytes];
        new Random(imageBytes).NextBytes(image);
        var example = new ImageExample(image, label, synset, text, fileName, side, side / 2 + 1, channels);
        byte[] expected = example.ToPayload();

        Assert.Equal(expected.Length, ImageExamplePayload.Size(example));
        byte[] buffer = new byte[expected.Length + 7];
        int written = ImageExamplePayload.Write(example, buffer);
        Assert.Equal(expected.Length, written);
        Assert.Equal(expected, buffer.AsSpan(0, written).ToArray());

        ImageExample parsed = ImageExample.Parse(buffer.AsSpan(0, written));
        Assert.Equal(example with { Encoded = default }, parsed with { Encoded = default });
        Assert.Equal(image, parsed.Encoded.ToArray());
    }
}
