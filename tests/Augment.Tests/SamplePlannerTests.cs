using System.Text.Json;

namespace Loader.Augment.Tests;

public sealed class SamplePlannerTests
{
    private readonly SamplePlanner _planner = new(new AugmentOptions());

    [Fact]
    public void PlanTrain_SameInputs_SamePlanOnAnyThreadInAnyOrder()
    {
        var expected = Enumerable.Range(0, 2000).Select(i => _planner.PlanTrain(42, 3, i, 500, 375)).ToArray();
        var actual = new SamplePlan[expected.Length];
        Parallel.For(0, expected.Length, i =>
        {
            var id = expected.Length - 1 - i;
            actual[id] = _planner.PlanTrain(42, 3, id, 500, 375);
        });
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void PlanTrain_DifferentSeedEpochOrSample_GiveDifferentPlans()
    {
        var a = _planner.PlanTrain(1, 0, 7, 500, 375);
        Assert.NotEqual(a, _planner.PlanTrain(2, 0, 7, 500, 375));
        Assert.NotEqual(a, _planner.PlanTrain(1, 1, 7, 500, 375));
        Assert.NotEqual(a, _planner.PlanTrain(1, 0, 8, 500, 375));
    }

    [Fact]
    public void PlanTrain_Statistics_MatchTheDistribution()
    {
        const int n = 20000;
        var flips = 0;
        var areaSum = 0.0;
        for (var i = 0; i < n; i++)
        {
            var plan = _planner.PlanTrain(5, 0, i, 1000, 1000);
            flips += plan.Flip ? 1 : 0;
            Assert.InRange(plan.Crop.X, 0, 1000 - plan.Crop.Width);
            Assert.InRange(plan.Crop.Y, 0, 1000 - plan.Crop.Height);
            Assert.Equal(224, plan.OutputWidth);
            areaSum += (double)plan.Crop.Width * plan.Crop.Height / 1e6;
        }

        Assert.InRange(flips / (double)n, 0.48, 0.52);

        // Scale ~ U(0.08, 1) has mean 0.54; the rejected draws (crops wider or taller than the image) pull it lower:
        // torchvision's own get_params averages 0.476 over 20000 draws on a 1000x1000 image.
        Assert.InRange(areaSum / n, 0.466, 0.486);
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(1.0, true)]
    public void PlanTrain_FlipProbabilityZeroOrOne_IsConstant(double p, bool expected)
    {
        var planner = new SamplePlanner(new AugmentOptions { FlipProbability = p });
        Assert.All(Enumerable.Range(0, 200), i => Assert.Equal(expected, planner.PlanTrain(9, 0, i, 300, 200).Flip));
    }

    [Fact]
    public void PlanEval_500x375_IsTorchvisionResize256CenterCrop224()
    {
        // Resize(256): 375 -> 256, 500 -> int(256 * 500 / 375) = 341. CenterCrop(224): left = round(58.5) = 58 (half to
        // even), top = round(16.0) = 16. In source pixels: scale 500/341 and 375/256.
        var plan = _planner.PlanEval(500, 375);
        var box = plan.EvalBox!.Value;
        Assert.Equal(58 * 500.0 / 341, box.X, 9);
        Assert.Equal(16 * 375.0 / 256, box.Y, 9);
        Assert.Equal(224 * 500.0 / 341, box.Width, 9);
        Assert.Equal(224 * 375.0 / 256, box.Height, 9);
        Assert.Equal(new CropWindow(85, 23, 328, 329), plan.Crop);
        Assert.False(plan.Flip);
    }

    /// <summary>torchvision's Resize(256) sizes and CenterCrop(224) offsets for 100 image sizes (make_golden.py).</summary>
    [Fact]
    public void PlanEval_MatchesTorchvisionGeometry()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture.Directory, "eval_plans.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToArray();
        Assert.True(cases.Length >= 100);
        foreach (var c in cases)
        {
            int w = c.GetProperty("width").GetInt32(), h = c.GetProperty("height").GetInt32();
            int rw = c.GetProperty("resized")[0].GetInt32(), rh = c.GetProperty("resized")[1].GetInt32();
            var plan = _planner.PlanEval(w, h);
            var box = plan.EvalBox!.Value;
            var because = $"{w}x{h} -> {rw}x{rh}";
            Assert.True(Math.Abs(box.X - (c.GetProperty("left").GetInt32() * (double)w / rw)) < 1e-9, because);
            Assert.True(Math.Abs(box.Y - (c.GetProperty("top").GetInt32() * (double)h / rh)) < 1e-9, because);
            Assert.True(Math.Abs(box.Width - (224.0 * w / rw)) < 1e-9, because);
            Assert.True(Math.Abs(box.Height - (224.0 * h / rh)) < 1e-9, because);
            Assert.InRange(plan.Crop.X, 0, w - 1);
            Assert.InRange(plan.Crop.Right, plan.Crop.X + 1, w);
            Assert.InRange(plan.Crop.Bottom, plan.Crop.Y + 1, h);
        }
    }

    [Fact]
    public void PlanEval_ShortSideAlready256_IsAPlainCenterCrop()
    {
        var plan = _planner.PlanEval(256, 400);
        Assert.Equal(new SourceBox(16, 88, 224, 224), plan.EvalBox);
        Assert.Equal(new CropWindow(16, 88, 224, 224), plan.Crop);
    }

    [Fact]
    public void Constructor_BadOptions_Throw()
    {
        Assert.ThrowsAny<ArgumentException>(() => new SamplePlanner(new AugmentOptions { ScaleMin = 0 }));
        Assert.ThrowsAny<ArgumentException>(() => new SamplePlanner(new AugmentOptions { RatioMin = 2, RatioMax = 1 }));
        Assert.ThrowsAny<ArgumentException>(() => new SamplePlanner(new AugmentOptions { EvalResize = 100 }));
        Assert.ThrowsAny<ArgumentException>(() => _planner.PlanTrain(0, 0, 0, 0, 10));
    }
}
