using System.Text;
using Loader.Augment.Interop;
using Loader.Augment.Jpeg;
using Loader.Augment.Tests.Jpeg;
using SkiaSharp;

namespace Loader.Augment.Tests.Interop;

/// <summary>
/// A loader worker decodes sample after sample with one decompressor, and each sample must come out as on a new one.
/// Two ways it did not, both found by tools/fuzz/native (the same bytes, decoders with different histories, different
/// outcomes): libjpeg keeps the quantization and Huffman tables of earlier images (for abbreviated datastreams), so a
/// crafted JPEG that omits a table decoded with the table of whatever image the worker had decoded before; and a
/// header read inherited the strict mode of a spliced decode before it.
/// </summary>
public sealed class DecoderReuseTests
{
    [Fact]
    public void JpegWithoutItsChromaQuantizationTable_IsRefused_AfterAnImageThatHadOne()
    {
        var whole = JpegTestImages.Encode(64, 48, SKJpegEncoderDownsample.Downsample420);
        var missing = WithoutSegments(whole, segment => segment.Marker == 0xDB && (segment.Payload[0] & 15) == 1);
        Assert.True(missing.Length < whole.Length, "the test image has no DQT segment for table 1 to remove");

        using var fresh = LibLoaderJpeg.Create();
        var (freshRc, freshMessage, _) = Decode(fresh, missing);
        Assert.Equal(LibLoaderJpeg.ErrorJpeg, freshRc);
        Assert.Contains("Quantization table 0x01 was not defined", freshMessage);

        using var reused = LibLoaderJpeg.Create();
        Assert.Equal(LibLoaderJpeg.Ok, Decode(reused, whole).Rc);
        var (rc, message, _) = Decode(reused, missing);
        Assert.Equal((LibLoaderJpeg.ErrorJpeg, freshMessage), (rc, message));
    }

    // The entropy mode is the decoder's for the image before (it has restart intervals, so the paired decoder runs);
    // the image under test has none, and libjpeg's own entropy decoder decodes it either way.
    [Theory]
    [InlineData(LibLoaderJpeg.EntropyLibjpeg)]
    [InlineData(LibLoaderJpeg.EntropyPaired)]
    public void JpegWithoutHuffmanTables_DecodesWithTheStandardOnes_AfterAnImageWithOptimizedOnes(int entropy)
    {
        // The fixture was written by libjpeg with its defaults: the standard Huffman tables, which a decoder assumes
        // where a JPEG has none (Motion-JPEG frames leave them out). Without its DHT segments it must decode the same.
        var standard = Fixture.ImageBytes("sampling411_203x141.jpg");
        var noTables = WithoutSegments(standard, segment => segment.Marker == 0xC4);
        var optimized = RestartTranscoder.Transcode(JpegTestImages.Encode(96, 72, SKJpegEncoderDownsample.Downsample420, seed: 8), 2);

        using var fresh = LibLoaderJpeg.Create();
        var (rcStandard, _, expected) = Decode(fresh, standard);
        Assert.Equal(LibLoaderJpeg.Ok, rcStandard);

        using var reused = LibLoaderJpeg.Create();
        LibLoaderJpeg.SetFastEntropy(reused, entropy);
        Assert.Equal(LibLoaderJpeg.Ok, Decode(reused, optimized).Rc);
        var (rc, message, pixels) = Decode(reused, noTables);
        Assert.True(rc == LibLoaderJpeg.Ok, message);
        Assert.Equal(expected, pixels);
    }

    [Fact]
    public void HeaderWithAWarning_ReadsAfterASplicedDecode_AsOnANewDecoder()
    {
        // Nine stray bytes before the first DQT: libjpeg warns ("extraneous bytes before marker") and reads on, as PIL
        // does. A header read used to inherit the strictness of the decode before it, a spliced sub-JPEG's, and refuse.
        var source = JpegTestImages.Encode(64, 48, SKJpegEncoderDownsample.Downsample420);
        var dqt = source.AsSpan().IndexOf([(byte)0xFF, (byte)0xDB]);
        byte[] warned = [.. source.AsSpan(0, dqt), .. new byte[9], .. source.AsSpan(dqt)];
        using (var fresh = new CpuSampleDecoder())
        {
            Assert.Equal(new ImageInfo(64, 48, 3), fresh.ReadHeader(warned));
        }

        using var reused = new CpuSampleDecoder();
        var spliceable = RestartTranscoder.Transcode(JpegTestImages.Encode(96, 64, SKJpegEncoderDownsample.Downsample420), 1);
        var spec = OutputSpec.ImageNet(32);
        reused.Process(spliceable, new SamplePlan(new CropWindow(40, 24, 32, 24), false, 32, 32), spec, new byte[spec.BytesPerSample]);
        Assert.Equal(1, reused.Statistics.SplicedSamples);
        Assert.Equal(new ImageInfo(64, 48, 3), reused.ReadHeader(warned));
    }

    private readonly record struct Segment(byte Marker, byte[] Payload);

    /// <summary>The JPEG with the header segments before its first scan that <paramref name="drop"/> picks left out.</summary>
    private static byte[] WithoutSegments(byte[] jpeg, Func<Segment, bool> drop)
    {
        var output = new List<byte>(jpeg.Length) { jpeg[0], jpeg[1] };
        var at = 2;
        while (true)
        {
            Assert.Equal(0xFF, jpeg[at]);
            var marker = jpeg[at + 1];
            var length = (jpeg[at + 2] << 8) | jpeg[at + 3];
            if (marker == 0xDA)
            {
                output.AddRange(jpeg.AsSpan(at).ToArray());
                return [.. output];
            }

            if (!drop(new Segment(marker, jpeg.AsSpan(at + 4, length - 2).ToArray())))
            {
                output.AddRange(jpeg.AsSpan(at, 2 + length).ToArray());
            }

            at += 2 + length;
        }
    }

    private static unsafe (int Rc, string Message, byte[] Pixels) Decode(JpegDecompressorHandle decoder, byte[] jpeg)
    {
        var message = new byte[256];
        int width, height, rc;
        fixed (byte* data = jpeg)
        fixed (byte* m = message)
        {
            rc = LibLoaderJpeg.ReadHeader(decoder, data, (nuint)jpeg.Length, out width, out height, out _, m, message.Length);
        }

        if (rc != LibLoaderJpeg.Ok)
        {
            return (rc, Text(message), []);
        }

        var pixels = new byte[width * height * 3];
        fixed (byte* data = jpeg)
        fixed (byte* output = pixels)
        fixed (byte* m = message)
        {
            rc = LibLoaderJpeg.DecodeRegion(decoder, data, (nuint)jpeg.Length, 0, 8, 0, 0, width, height, output, (nuint)(width * 3),
                (nuint)pixels.Length, out _, out _, out _, m, message.Length);
        }

        return (rc, Text(message), pixels);
    }

    private static string Text(byte[] message)
    {
        var length = Array.IndexOf(message, (byte)0);
        return Encoding.UTF8.GetString(message, 0, length < 0 ? message.Length : length);
    }
}
