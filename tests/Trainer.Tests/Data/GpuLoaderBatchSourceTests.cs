using Loader.Augment;
using Loader.Augment.Cuda;
using Loader.Pipeline;
using Loader.Trainer.Commands;
using Loader.Trainer.Data;
using Loader.Trainer.Precision;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Data;

/// <summary>
/// `trainer --loader gpu` without a GPU: it fails at once, before opening anything, with the GPU probe's message;
/// it implies --device cuda and refuses --device cpu; the batch's element type follows --amp. The batches themselves
/// are checked on the device (tools/device), where these "no GPU" tests skip.
/// </summary>
public sealed class GpuLoaderBatchSourceTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "trainer-gpu-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static string ExpectedMessage()
    {
        GpuProbeResult probe = GpuAvailability.Probe();
        if (probe.IsAvailable) Assert.Skip("this machine has a GPU path: --loader gpu runs (checked on the device, tools/device)");
        return "--loader gpu: " + probe.Summary;
    }

    private TrainArguments Arguments(string device) => new()
    {
        Loader = "gpu",
        Device = device,
        Data = Path.Combine(_directory, "no-such-records"),
        Output = Path.Combine(_directory, "run"),
        Arch = "resnet-tiny",
        Epochs = 1,
        Batch = 4,
        ImageSize = 32,
        Threads = 1,
    };

    [Theory]
    [InlineData("auto")]
    [InlineData("cuda")]
    public void Train_WithoutAGpu_FailsAtOnceWithTheProbesMessage(string device)
    {
        string expected = ExpectedMessage();

        var error = Assert.Throws<NotSupportedException>(() => TrainCommand.Run(Arguments(device), CancellationToken.None));

        // The probe's message, not libtorch's "no CUDA device" (--device cuda) nor a missing --data directory.
        Assert.Equal(expected, error.Message);
        Assert.StartsWith("GPU path unavailable: ", error.InnerException!.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "run")), "nothing may be created before the GPU check");
    }

    [Fact]
    public void Train_WithDeviceCpu_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => TrainCommand.Run(Arguments("cpu"), CancellationToken.None));

        Assert.Contains("--device cpu", error.Message, StringComparison.Ordinal);
        Assert.Contains("--loader gpu", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequireCudaDevice_WithoutAGpu_ThrowsTheProbesMessage()
    {
        string expected = ExpectedMessage();

        var error = Assert.Throws<NotSupportedException>(() => GpuLoaderBatchSource.RequireCudaDevice("auto"));

        Assert.Equal(expected, error.Message);
        Assert.IsType<GpuUnavailableException>(error.InnerException);
    }

    [Fact]
    public void Constructor_WithoutAGpu_FailsBeforeOpeningTheRecords()
    {
        string expected = ExpectedMessage();
        var options = new LoaderOptions
        {
            DataDirectory = Path.Combine(_directory, "no-such-records"),
            BatchSize = 4,
            Output = OutputSpec.ImageNet(32, PixelType.Float16),
        };

        var error = Assert.Throws<NotSupportedException>(() => new GpuLoaderBatchSource(options, CPU));

        Assert.Equal(expected, error.Message);
    }

    [Theory]
    [InlineData(AmpMode.Off, PixelType.Float32)]
    [InlineData(AmpMode.Fp16, PixelType.Float16)]
    [InlineData(AmpMode.Bf16, PixelType.BFloat16)]
    public void PixelTypeFor_IsTheAutocastType(AmpMode amp, PixelType expected) =>
        Assert.Equal(expected, GpuLoaderBatchSource.PixelTypeFor(amp));

    [Theory]
    [InlineData(PixelType.Float32, ScalarType.Float32)]
    [InlineData(PixelType.Float16, ScalarType.Float16)]
    [InlineData(PixelType.BFloat16, ScalarType.BFloat16)]
    [InlineData(PixelType.UInt8, ScalarType.Byte)]
    public void ScalarTypeOf_HoldsTheLoadersBytesUnchanged(PixelType type, ScalarType expected)
    {
        Assert.Equal(expected, GpuLoaderBatchSource.ScalarTypeOf(type));
        // The device-to-device copy moves Count * BytesPerSample bytes into the tensor: the element sizes must agree.
        using Tensor tensor = empty([1, 3, 4, 4], GpuLoaderBatchSource.ScalarTypeOf(type));
        Assert.Equal(OutputSpec.ImageNet(4, type, PixelLayout.Nhwc).BytesPerSample, tensor.NumberOfElements * tensor.ElementSize);
    }
}
