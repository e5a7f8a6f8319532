using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda;

/// <summary>
/// The loaded <c>augment_batch</c> kernel (Kernels/augment.cu) and its launch: one launch per batch, grid
/// (blocks over output pixels) x (samples), each thread one output pixel of one sample, all three channels.
/// </summary>
internal sealed class AugmentKernel : IDisposable
{
    public const string SourceFile = "augment.cu";
    public const string EntryPoint = "augment_batch";
    private const int ThreadsPerBlock = 256;

    private readonly CudaDevice _device;
    private readonly CudaModuleHandle _module;
    private readonly nint _function;

    public AugmentKernel(CudaDevice device)
    {
        _device = device;
        var cubin = KernelCompiler.GetCubin(SourceFile, KernelCompiler.ReadEmbeddedSource(SourceFile), device.Architecture);
        device.MakeCurrent();
        _module = new CudaModuleHandle(device.Context);
        unsafe
        {
            fixed (byte* image = cubin)
            {
                CudaDriver.Check(CudaDriver.cuModuleLoadData(out var module, (nint)image));
                _module.Set(module);
            }
        }

        CudaDriver.Check(CudaDriver.cuModuleGetFunction(out _function, _module.Pointer, EntryPoint));
    }

    /// <summary>Blocks per sample: enough to cover the output, capped so huge outputs loop inside the kernel instead.</summary>
    public static uint BlocksPerSample(int outputPixels) => (uint)Math.Clamp((outputPixels + ThreadsPerBlock - 1) / ThreadsPerBlock, 1, 1024);

    /// <summary>Queues the kernel on <paramref name="stream"/>; <paramref name="batch"/>.Samples must already hold the per-sample parameters on the device.</summary>
    public unsafe void Launch(GpuBatchParams batch, CudaStream stream)
    {
        if (batch.Count == 0)
        {
            return;
        }

        _device.MakeCurrent();
        void** arguments = stackalloc void*[1];
        arguments[0] = &batch;
        CudaDriver.Check(CudaDriver.cuLaunchKernel(_function, BlocksPerSample(batch.OutWidth * batch.OutHeight), (uint)batch.Count, 1,
            ThreadsPerBlock, 1, 1, 0, stream.Pointer, arguments, null));
    }

    public void Dispose() => _module.Dispose();
}
