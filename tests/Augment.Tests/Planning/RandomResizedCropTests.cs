using System.Text.Json;
using Loader.Augment.Planning;

namespace Loader.Augment.Tests.Planning;

public sealed class RandomResizedCropTests
{
    public static TheoryData<int> TorchvisionCases()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < LoadCases().GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    /// <summary>Given the draws torch made (recorded by make_golden.py), we return torchvision's window.</summary>
    [Theory]
    [MemberData(nameof(TorchvisionCases))]
    public void GetParams_WithTorchvisionDraws_ReturnsTorchvisionWindow(int index)
    {
        var c = LoadCases()[index];
        var scale = c.GetProperty("scale");
        var ratio = c.GetProperty("ratio");
        var options = new AugmentOptions
        {
            ScaleMin = scale[0].GetDouble(),
            ScaleMax = scale[1].GetDouble(),
            RatioMin = ratio[0].GetDouble(),
            RatioMax = ratio[1].GetDouble(),
        };
        var replay = new ReplayRandom(
            [.. c.GetProperty("uniform").EnumerateArray().Select(u => (u[0].GetSingle(), u[1].GetSingle(), u[2].GetSingle()))],
            [.. c.GetProperty("randint").EnumerateArray().Select(r => (r[0].GetInt32(), r[1].GetInt32()))]);

        var crop = RandomResizedCrop.GetParams(c.GetProperty("width").GetInt32(), c.GetProperty("height").GetInt32(), options, ref replay);

        var expected = c.GetProperty("crop");
        Assert.Equal(new CropWindow(expected[0].GetInt32(), expected[1].GetInt32(), expected[2].GetInt32(), expected[3].GetInt32()), crop);
        replay.AssertAllConsumed();
    }

    [Theory]
    [InlineData(3, 2000, 0, 998, 3, 4)]    // too tall: w = W, h = round(3 / (3/4)) = 4, centered
    [InlineData(2000, 3, 998, 0, 4, 3)]    // too wide: h = H, w = round(3 * 4/3) = 4
    [InlineData(100, 100, 0, 0, 100, 100)] // in range: the whole image
    public void CenterFallback_MatchesTorchvision(int width, int height, int x, int y, int w, int h)
    {
        Assert.Equal(new CropWindow(x, y, w, h), RandomResizedCrop.CenterFallback(width, height, new AugmentOptions()));
    }

    private static JsonElement LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture.Directory, "get_params.json")));
        return doc.RootElement.GetProperty("cases").Clone();
    }

    /// <summary>Plays back recorded draws, checking each is asked for with the same bounds torch was given.</summary>
    private struct ReplayRandom((float Low, float High, float Value)[] uniform, (int High, int Value)[] ints) : IPlanRandom
    {
        private int _u;
        private int _i;

        public float Uniform(float low, float high)
        {
            var (l, h, v) = uniform[_u++];
            Assert.Equal(l, low);
            Assert.Equal(h, high);
            return v;
        }

        public int RandInt(int exclusiveHigh)
        {
            var (h, v) = ints[_i++];
            Assert.Equal(h, exclusiveHigh);
            return v;
        }

        public readonly void AssertAllConsumed()
        {
            Assert.Equal(uniform.Length, _u);
            Assert.Equal(ints.Length, _i);
        }
    }
}
