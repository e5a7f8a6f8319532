using Loader.Augment.Jpeg;

namespace Loader.Augment.Tests.Jpeg;

/// <summary>
/// <see cref="BlockSmoothing"/> reads the scan headers; the shim asks libjpeg after reading the file (its transcoder
/// refuses exactly the files libjpeg smooths). The two must agree: on every fixture, and on progressive files cut
/// after each of their scans (each cut leaves other coefficients unsent or unrefined).
/// </summary>
public sealed class BlockSmoothingTests
{
    [Fact]
    public void AppliesTo_AgreesWithLibjpeg_OnEveryFixtureAndEveryScanPrefixOfTheProgressiveOnes()
    {
        var smoothed = 0;
        var compared = 0;
        foreach (var path in Directory.GetFiles(Path.Combine(Fixture.Directory, "images")).Order(StringComparer.Ordinal))
        {
            var jpeg = File.ReadAllBytes(path);
            foreach (var (name, bytes) in new[] { (Path.GetFileName(path), jpeg) }.Concat(ScanPrefixes(Path.GetFileName(path), jpeg)))
            {
                bool libjpeg;
                try
                {
                    RestartTranscoder.Transcode(bytes, 8);
                    libjpeg = false;
                }
                catch (LossyTranscodeException)
                {
                    libjpeg = true;
                }
                catch (ImageDecodeException)
                {
                    continue; // not a file libjpeg reads as it is (a cut in the middle of a scan, say)
                }

                Assert.True(libjpeg == BlockSmoothing.AppliesTo(bytes), $"{name}: libjpeg smooths it: {libjpeg}");
                smoothed += libjpeg ? 1 : 0;
                compared++;
            }
        }

        Assert.True(smoothed >= 3 && compared - smoothed >= 20, $"{smoothed} smoothed of {compared}");
    }

    [Fact]
    public void AppliesTo_TheDcOnlyFixture_NotACompleteProgressiveOrABaselineFile()
    {
        Assert.True(BlockSmoothing.AppliesTo(Fixture.ImageBytes("progressive_dc_only_203x141.jpg")));
        Assert.False(BlockSmoothing.AppliesTo(Fixture.ImageBytes("progressive_301x227.jpg")));
        Assert.False(BlockSmoothing.AppliesTo(Fixture.ImageBytes("n02815834_beaker.JPEG")));
        Assert.False(BlockSmoothing.AppliesTo("not a jpeg"u8));
    }

    /// <summary>A progressive file's first n scans, then EOI, for every n (baseline files have none to cut).</summary>
    private static IEnumerable<(string Name, byte[] Jpeg)> ScanPrefixes(string name, byte[] jpeg)
    {
        if (!JpegFrame.TryRead(jpeg, out var frame) || jpeg[frame.SofOffset + 1] != 0xC2)
        {
            yield break;
        }

        var scans = new List<int>();
        for (var i = frame.ScanOffset; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA)
            {
                scans.Add(i);
            }
        }

        for (var n = 1; n < scans.Count; n++)
        {
            yield return ($"{name}, first {n} of {scans.Count} scans", [.. jpeg.AsSpan(0, scans[n]), 0xFF, 0xD9]);
        }
    }
}
