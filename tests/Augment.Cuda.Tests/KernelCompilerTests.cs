namespace Loader.Augment.Cuda.Tests;

public sealed class KernelCompilerTests
{
    [Fact]
    public void EmbeddedSource_HoldsTheEntryPoint() =>
        Assert.Contains($"extern \"C\" __global__ void {AugmentKernel.EntryPoint}(", KernelCompiler.ReadEmbeddedSource(AugmentKernel.SourceFile));

    [Fact]
    public void EmbeddedSource_Missing_SaysWhich()
    {
        var e = Assert.Throws<InvalidOperationException>(() => KernelCompiler.ReadEmbeddedSource("nope.cu"));
        Assert.Contains("Loader.Augment.Cuda.Kernels.nope.cu", e.Message);
    }

    [Fact]
    public void CacheKey_ChangesWithSourceArchitectureAndCompiler()
    {
        var key = KernelCompiler.CacheKey("augment.cu", "a", "sm_90", "13.0");
        Assert.Matches(@"^augment-[0-9a-f]{16}-sm_90-nvrtc13\.0\.cubin$", key);
        Assert.Equal(key, KernelCompiler.CacheKey("augment.cu", "a", "sm_90", "13.0"));
        Assert.NotEqual(key, KernelCompiler.CacheKey("augment.cu", "b", "sm_90", "13.0"));
        Assert.NotEqual(key, KernelCompiler.CacheKey("augment.cu", "a", "sm_80", "13.0"));
        Assert.NotEqual(key, KernelCompiler.CacheKey("augment.cu", "a", "sm_90", "12.8"));
    }

    [Fact]
    public void CacheDirectory_FollowsTheVariable()
    {
        var previous = Environment.GetEnvironmentVariable(KernelCompiler.CacheVariable);
        try
        {
            Environment.SetEnvironmentVariable(KernelCompiler.CacheVariable, "/tmp/cubins");
            Assert.Equal("/tmp/cubins", KernelCompiler.CacheDirectory());
        }
        finally
        {
            Environment.SetEnvironmentVariable(KernelCompiler.CacheVariable, previous);
        }
    }

    [Fact]
    public void Compile_OnTheDevice_ProducesACubin()
    {
        Fixture.RequireGpu();
        using var device = CudaDevice.Open();
        var cubin = KernelCompiler.Compile(AugmentKernel.SourceFile, KernelCompiler.ReadEmbeddedSource(AugmentKernel.SourceFile), device.Architecture);
        Assert.Equal("\u007fELF"u8.ToArray(), cubin[..4]);
    }
}
