using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Loader.Augment;
using Loader.Augment.Cpu;

namespace Loader.Tools.AugmentBench;

/// <summary>The resize kernels on a typical training sample (a 300x260 decoded region to 224x224), vector vs scalar.</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private const int RegionWidth = 300;
    private const int RegionHeight = 260;
    private const int Output = 224;

    private readonly byte[] _region = new byte[RegionWidth * RegionHeight * 3];
    private readonly float[] _row = new float[(RegionWidth * 3) + 64];
    private readonly float[] _outputRow = new float[(Output * 3) + HorizontalResampler.DestinationPadding];
    private readonly float[] _outputRow2 = new float[(Output * 3) + HorizontalResampler.DestinationPadding];
    private readonly byte[] _sample = new byte[OutputSpec.ImageNet().BytesPerSample];
    private readonly AxisCoefficients _horizontal = new();
    private readonly AxisCoefficients _vertical = new();
    private readonly OutputSpec _spec = OutputSpec.ImageNet();

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_region);
        _horizontal.Compute(0, RegionWidth, Output, 0, RegionWidth);
        _vertical.Compute(0, RegionHeight, Output, 0, RegionHeight);
    }

    [Benchmark]
    public void VerticalPass()
    {
        for (var y = 0; y < Output; y++)
        {
            VerticalResampler.Run(_region, RegionWidth * 3, _vertical.First[y], _vertical.Weights.Slice(y * _vertical.TapStride, _vertical.Count[y]), _row.AsSpan(0, RegionWidth * 3));
        }
    }

    [Benchmark]
    public void VerticalPassScalar()
    {
        for (var y = 0; y < Output; y++)
        {
            VerticalResampler.RunScalar(_region, RegionWidth * 3, _vertical.First[y], _vertical.Weights.Slice(y * _vertical.TapStride, _vertical.Count[y]), _row, 0, RegionWidth * 3);
        }
    }

    [Benchmark]
    public void HorizontalPass()
    {
        for (var y = 0; y < Output; y++)
        {
            HorizontalResampler.Run(_row, _horizontal, flip: (y & 1) == 0, Vector128.Create(1f), Vector128<float>.Zero, _outputRow);
        }
    }

    [Benchmark]
    public void HorizontalPassRowPairs()
    {
        for (var y = 0; y < Output; y += 2)
        {
            HorizontalResampler.RunPair(_row, _row, _horizontal, flip: (y & 2) == 0, Vector128.Create(1f), Vector128<float>.Zero, _outputRow, _outputRow2);
        }
    }

    [Benchmark]
    public void HorizontalPassScalar()
    {
        for (var y = 0; y < Output; y++)
        {
            HorizontalResampler.RunScalar(_row, _horizontal.First, _horizontal.Count, _horizontal.Weights, _horizontal.TapStride, (y & 1) == 0, Vector128.Create(1f), Vector128<float>.Zero, _outputRow);
        }
    }

    [Benchmark]
    public void CoefficientsBothAxes()
    {
        _horizontal.Compute(0, RegionWidth, Output, 0, RegionWidth);
        _vertical.Compute(0, RegionHeight, Output, 0, RegionHeight);
    }

    [Benchmark]
    public void StoreFloat32Chw()
    {
        for (var y = 0; y < Output; y++)
        {
            PixelStore.StoreRow(_outputRow.AsSpan(0, Output * 3), y, _spec, _sample);
        }
    }
}
