using Loader.Records.Jpeg;

namespace Loader.Records.Tests.Jpeg;

public class JpegHeaderTests
{
    [Fact]
    public void TryParse_BaselineJpeg_ReadsFrame()
    {
        byte[] jpeg = TestImages.Jpeg(37, 21);
        Assert.True(JpegHeader.TryParse(jpeg, out JpegInfo info, out string? problem), problem);
        Assert.Equal((37, 21, 3, 8), (info.Width, info.Height, info.Components, info.Precision));
        Assert.False(info.Progressive);
        Assert.Equal(1, info.Orientation);
        Assert.Equal(0x22, info.LumaSampling);
    }

    [Fact]
    public void TryParse_Fixtures_CmykAndProgressive()
    {
        Assert.True(JpegHeader.TryParse(File.ReadAllBytes(TestImages.Fixture("cmyk.jpg")), out JpegInfo cmyk, out _));
        Assert.Equal(4, cmyk.Components);
        Assert.True(JpegHeader.TryParse(File.ReadAllBytes(TestImages.Fixture("progressive.jpg")), out JpegInfo progressive, out _));
        Assert.True(progressive.Progressive);
        Assert.Equal((64, 48), (progressive.Width, progressive.Height));
    }

    [Fact]
    public void TryParse_ExifOrientation_IsRead()
    {
        byte[] jpeg = TestImages.WithExifOrientation(TestImages.Jpeg(30, 10), 6, bigEndian: true);
        Assert.True(JpegHeader.TryParse(jpeg, out JpegInfo info, out _));
        Assert.Equal(6, info.Orientation);
        Assert.True(JpegHeader.TryParse(TestImages.WithExifOrientation(TestImages.Jpeg(30, 10), 3, bigEndian: false), out info, out _));
        Assert.Equal(3, info.Orientation);
    }

    [Fact]
    public void TryParse_TruncatedAnywhere_FailsWithTruncatedOrCorrupt()
    {
        byte[] jpeg = TestImages.Jpeg(64, 64);
        for (int cut = 3; cut < jpeg.Length - 1; cut += 13)
        {
            Assert.False(JpegHeader.TryParse(jpeg.AsSpan(0, cut), out _, out string? problem));
            Assert.NotNull(problem);
        }

        Assert.False(JpegHeader.TryParse("not a jpeg"u8, out _, out string? notJpeg));
        Assert.Contains("not a JPEG", notJpeg, StringComparison.Ordinal);
    }
}
