namespace Loader.Augment.Cuda.Tests;

public sealed class GpuDecodeOptionsTests
{
    [Fact]
    public void Defaults_PreferTheHardwareEngineAndRegionOfInterest()
    {
        var options = new GpuDecodeOptions();
        Assert.True(options.UseHardwareDecoder);
        Assert.True(options.UseRegionOfInterest);
        Assert.InRange(options.ResolvedHybridThreads, 1, 8);
        Assert.Equal(3, new GpuDecodeOptions { HybridThreads = 3 }.ResolvedHybridThreads);
    }

    [Theory]
    [InlineData(1, 256)]
    [InlineData(256, 256)]
    [InlineData(257, 512)]
    [InlineData(150_000, 150_016)]
    public void StagingArena_AlignsEveryRegionTo256Bytes(long bytes, long aligned) => Assert.Equal(aligned, StagingArena.Align(bytes));

    [Fact]
    public void StagingArena_PitchIsThreeBytesPerPixel() => Assert.Equal(672, StagingArena.PitchFor(224));
}
