using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda.Tests.Interop;

public sealed class CudaLibraryResolverTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cuda-resolver-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string Make(string path)
    {
        var full = Path.Join(_root, path);
        Directory.CreateDirectory(full);
        return full;
    }

    [Fact]
    public void SonamesFor_TriesCuda13BeforeCuda12BeforeTheBareName()
    {
        Assert.Equal(["libnvjpeg.so.13", "libnvjpeg.so.12", "libnvjpeg.so"], CudaLibraryResolver.SonamesFor(CudaLibraryResolver.NvJpeg));
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"], CudaLibraryResolver.SonamesFor(CudaLibraryResolver.Nvrtc));
        Assert.Equal("libcuda.so.1", CudaLibraryResolver.SonamesFor(CudaLibraryResolver.Driver)[0]);
    }

    [Fact]
    public void SearchDirectories_OverrideThenToolkitsNewestFirstThenPipThenTorch()
    {
        var custom = Make("/opt/custom");
        var cuda = Make("/usr/local/cuda/lib64");
        var cuda124 = Make("/usr/local/cuda-12.4/lib64");
        var cuda130 = Make("/usr/local/cuda-13.0/lib64");
        var cuda129 = Make("/usr/local/cuda-12.9/lib64");
        var cu13 = Make("/usr/local/lib/python3.12/dist-packages/nvidia/cu13/lib");
        var nvjpegWheel = Make("/usr/local/lib/python3.12/dist-packages/nvidia/nvjpeg/lib");
        var nvrtcWheel = Make("/usr/local/lib/python3.12/dist-packages/nvidia/cuda_nvrtc/lib");
        var torch = Make("/usr/local/lib/python3.12/dist-packages/torch/lib");
        Make("/usr/local/cuda-13.0/bin");  // not a library folder

        string? Environment(string name) => name == CudaLibraryResolver.OverrideVariable ? custom : null;

        Assert.Equal([custom, cuda, cuda130, cuda129, cuda124, cu13, nvjpegWheel, torch],
            CudaLibraryResolver.SearchDirectories(CudaLibraryResolver.NvJpeg, _root, Environment));
        Assert.Equal([custom, cuda, cuda130, cuda129, cuda124, cu13, nvrtcWheel, torch],
            CudaLibraryResolver.SearchDirectories(CudaLibraryResolver.Nvrtc, _root, Environment));
    }

    [Fact]
    public void SearchDirectories_HonoursCudaHomeAndVirtualEnvironments()
    {
        var home = Make("/toolkits/cuda-13.1");
        var homeLib = Make("/toolkits/cuda-13.1/lib64");
        var venvTorch = Make("/venv/lib/python3.11/site-packages/torch/lib");
        string? Environment(string name) => name switch
        {
            "CUDA_HOME" => home,
            "VIRTUAL_ENV" => "/venv",
            _ => null,
        };

        Assert.Equal([homeLib, venvTorch], CudaLibraryResolver.SearchDirectories(CudaLibraryResolver.NvJpeg, _root, Environment));
    }

    [Fact]
    public void Candidates_BareSonamesFirstThenEveryDirectoryWithEverySoname()
    {
        var cuda = Make("/usr/local/cuda/lib64");
        var candidates = CudaLibraryResolver.Candidates(CudaLibraryResolver.Nvrtc, _root, _ => null);
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
            Path.Combine(cuda, "libnvrtc.so.13"), Path.Combine(cuda, "libnvrtc.so.12"), Path.Combine(cuda, "libnvrtc.so")], candidates);
    }

    [Fact]
    public void SonamesFor_UnknownLibrary_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaLibraryResolver.SonamesFor("cudnn"));
}
