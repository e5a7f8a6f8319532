namespace Loader.Augment.Cuda.Interop;

/// <summary>A CUDA driver, NVRTC or nvJPEG call failed. The message names the library, the call and the library's own error text.</summary>
public sealed class CudaException : Exception
{
    public CudaException(string library, string function, int status, string description)
        : base($"{library}: {function} failed: {description} (status {status})")
    {
        Library = library;
        Function = function;
        Status = status;
    }

    public CudaException()
    {
        Library = Function = "";
    }

    public CudaException(string message) : base(message)
    {
        Library = Function = "";
    }

    public CudaException(string message, Exception innerException) : base(message, innerException)
    {
        Library = Function = "";
    }

    /// <summary>"CUDA driver", "NVRTC" or "nvJPEG".</summary>
    public string Library { get; }

    /// <summary>The native function that failed, e.g. <c>cuMemAlloc</c>.</summary>
    public string Function { get; }

    /// <summary>The library's status code (<c>CUresult</c>, <c>nvrtcResult</c>, <c>nvjpegStatus_t</c>).</summary>
    public int Status { get; }
}
