namespace Loader.Augment.Cuda.Tests;

public sealed class PlanPackerTests
{
    [Fact]
    public void Pack_TrainPlanDecodedAsRegionOfInterest_SamplesTheWholeRegion()
    {
        var plan = new SamplePlan(new CropWindow(40, 30, 200, 150), Flip: true, 224, 224);
        var p = PlanPacker.Pack(plan, plan.Crop, 0x7000, 600);
        Assert.Equal(0x7000ul, p.Source);
        Assert.Equal(600, p.SourcePitch);
        Assert.Equal((200, 150), (p.SourceWidth, p.SourceHeight));
        Assert.Equal((0f, 0f, 200f, 150f), (p.BoxX, p.BoxY, p.BoxWidth, p.BoxHeight));
        Assert.Equal(1, p.Flip);
        Assert.Equal(0, p.Skip);
    }

    [Fact]
    public void Pack_TrainPlanInAWholeDecodedImage_OffsetsTheBoxButClampsToTheImage()
    {
        var plan = new SamplePlan(new CropWindow(40, 30, 200, 150), Flip: false, 224, 224);
        var p = PlanPacker.Pack(plan, new CropWindow(0, 0, 500, 375), 0x7000, 1500);
        Assert.Equal((40f, 30f, 200f, 150f), (p.BoxX, p.BoxY, p.BoxWidth, p.BoxHeight));
        Assert.Equal((500, 375), (p.SourceWidth, p.SourceHeight));
        Assert.Equal(0, p.Flip);
    }

    [Fact]
    public void Pack_EvalPlan_SamplesItsFractionalBox()
    {
        var planner = new SamplePlanner(new AugmentOptions());
        var plan = planner.PlanEval(500, 375);
        Assert.NotNull(plan.EvalBox);
        var p = PlanPacker.Pack(plan, new CropWindow(0, 0, 500, 375), 1, 1500);
        var box = plan.EvalBox.Value;
        Assert.Equal((float)box.X, p.BoxX);
        Assert.Equal((float)box.Width, p.BoxWidth);
        Assert.Equal((float)box.Height, p.BoxHeight);
    }

    [Fact]
    public void Pack_BoxOutsideTheDecodedRegion_Throws()
    {
        var plan = new SamplePlan(new CropWindow(40, 30, 200, 150), Flip: false, 224, 224);
        var e = Assert.Throws<ArgumentException>(() => PlanPacker.Pack(plan, new CropWindow(50, 30, 200, 150), 1, 600));
        Assert.Contains("outside the decoded region", e.Message);
    }

    [Fact]
    public void Skipped_TellsTheKernelToLeaveTheSlot() => Assert.Equal(1, PlanPacker.Skipped().Skip);

    [Theory]
    [InlineData(PixelType.Float32, PixelLayout.Nchw, 0, 0, 4)]
    [InlineData(PixelType.Float16, PixelLayout.Nhwc, 1, 1, 2)]
    [InlineData(PixelType.BFloat16, PixelLayout.Nchw, 2, 0, 2)]
    public void PackBatch_FoldsNormalizationIntoScaleAndBias(PixelType type, PixelLayout layout, int kernelType, int kernelLayout, int bytes)
    {
        var spec = OutputSpec.ImageNet(224, type, layout);
        var b = PlanPacker.PackBatch(spec, 7, 0x100, 0x200);
        Assert.Equal((0x100ul, 0x200ul, 7), (b.Samples, b.Output, b.Count));
        Assert.Equal(224L * 224 * 3 * bytes, b.SampleStride);
        Assert.Equal((224, 224, kernelType, kernelLayout), (b.OutWidth, b.OutHeight, b.PixelType, b.Layout));
        for (var c = 0; c < 3; c++)
        {
            // The kernel's v * scale + bias must equal the CPU's (v / 255 - mean) / std for every v.
            foreach (var v in new[] { 0f, 17f, 128f, 255f })
            {
                Assert.Equal((v / 255f - spec.Mean[c]) / spec.Std[c], (v * b.Scale[c]) + b.Bias[c], 5);
            }
        }
    }

    [Fact]
    public void PackBatch_UInt8_IsNotNormalized()
    {
        var b = PlanPacker.PackBatch(OutputSpec.ImageNet(160, PixelType.UInt8, PixelLayout.Nhwc), 2, 1, 2);
        Assert.Equal(3, b.PixelType);
        Assert.Equal(1, b.Layout);
        Assert.Equal(160L * 160 * 3, b.SampleStride);
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(1f, b.Scale[c]);
            Assert.Equal(0f, b.Bias[c]);
        }
    }
}
