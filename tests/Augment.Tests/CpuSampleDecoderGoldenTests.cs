using System.Text.Json;
using Loader.Augment.Cpu;

namespace Loader.Augment.Tests;

/// <summary>
/// Our uint8 output against torchvision's (PIL decode, crop, antialiased bilinear resize, flip), made by
/// golden/make_golden.py: PSNR of at least 35 dB where we decode at full scale, 30 dB where DCT scaling was used.
/// </summary>
public sealed class CpuSampleDecoderGoldenTests
{
    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < LoadCases().GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Process_MatchesTorchvision(int index)
    {
        var c = LoadCases()[index];
        var file = c.GetProperty("file").GetString()!;
        var jpeg = Fixture.ImageBytes(file);
        var size = c.GetProperty("size").GetInt32();
        using var decoder = new CpuSampleDecoder();
        var info = decoder.ReadHeader(jpeg);

        SamplePlan plan;
        if (c.GetProperty("mode").GetString() == "eval")
        {
            plan = new SamplePlanner(new AugmentOptions { OutputSize = size }).PlanEval(info.Width, info.Height);
        }
        else
        {
            var crop = c.GetProperty("crop");
            plan = new SamplePlan(new CropWindow(crop[0].GetInt32(), crop[1].GetInt32(), crop[2].GetInt32(), crop[3].GetInt32()),
                c.GetProperty("flip").GetBoolean(), size, size);
        }

        var spec = OutputSpec.ImageNet(size, PixelType.UInt8, PixelLayout.Nhwc);
        var actual = new byte[spec.BytesPerSample];
        decoder.Process(jpeg, plan, spec, actual);

        var (w, h, expected) = PngReader.ReadRgb(Fixture.Golden(c.GetProperty("png").GetString()!));
        Assert.Equal((size, size), (w, h));
        var fullScale = ResampleGeometry.Create(plan, info.Width, info.Height).ScaleNumerator == 8;
        var psnr = Psnr(expected, actual);
        Assert.True(psnr >= (fullScale ? 35 : 30), $"{file} {plan}: PSNR {psnr:F1} dB (full-scale decode: {fullScale})");
    }

    [Fact]
    public void Process_CasesCoverBothFullScaleAndDctScaledDecodes()
    {
        var scales = LoadCases().EnumerateArray().Where(c => c.GetProperty("mode").GetString() == "train").Select(c =>
        {
            var crop = c.GetProperty("crop");
            var size = c.GetProperty("size").GetInt32();
            var plan = new SamplePlan(new CropWindow(crop[0].GetInt32(), crop[1].GetInt32(), crop[2].GetInt32(), crop[3].GetInt32()), false, size, size);
            return ResampleGeometry.Create(plan, 4096, 4096).ScaleNumerator;
        }).ToHashSet();
        Assert.Contains(8, scales);
        Assert.Contains(4, scales);
    }

    internal static double Psnr(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double sum = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            double d = expected[i] - actual[i];
            sum += d * d;
        }

        var mse = sum / expected.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    private static JsonElement LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture.Directory, "golden.json")));
        return doc.RootElement.GetProperty("cases").Clone();
    }
}
