using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Loader.Augment.Cuda.Interop;

namespace Loader.Augment.Cuda.Tests.Interop;

/// <summary>The C# mirrors of native structs must match the C layouts byte for byte, or the GPU reads garbage.</summary>
public sealed partial class StructLayoutTests
{
    [Fact]
    public void NvJpegImage_MatchesNvjpegH_FourPointersThenFourSizeTPitches()
    {
        Assert.Equal(64, Marshal.SizeOf<NvJpegImage>());
        Assert.Equal(0, (int)Marshal.OffsetOf<NvJpegImage>(nameof(NvJpegImage.Channel)));
        Assert.Equal(32, (int)Marshal.OffsetOf<NvJpegImage>(nameof(NvJpegImage.Pitch)));
    }

    [Fact]
    public unsafe void NvJpegImage_Interleaved_WritesOnlyChannelZero()
    {
        var image = NvJpegImage.Interleaved(0x1234, 672);
        Assert.Equal(0x1234ul, image.Channel[0]);
        Assert.Equal(672ul, image.Pitch[0]);
        for (var c = 1; c < NvJpeg.MaxComponents; c++)
        {
            Assert.Equal(0ul, image.Channel[c]);
            Assert.Equal(0ul, image.Pitch[c]);
        }
    }

    [Fact]
    public void NvJpegAllocators_AreTwoFunctionPointers()
    {
        Assert.Equal(16, Marshal.SizeOf<NvJpegDevAllocator>());
        Assert.Equal(8, (int)Marshal.OffsetOf<NvJpegDevAllocator>(nameof(NvJpegDevAllocator.DeviceFree)));
        Assert.Equal(16, Marshal.SizeOf<NvJpegPinnedAllocator>());
        Assert.Equal(8, (int)Marshal.OffsetOf<NvJpegPinnedAllocator>(nameof(NvJpegPinnedAllocator.PinnedFree)));
    }

    [Fact]
    public void SampleParams_MatchesTheKernelSourceOffsets() => AssertMatchesKernel<GpuSampleParams>("SampleParams", 48);

    [Fact]
    public void BatchParams_MatchesTheKernelSourceOffsets() => AssertMatchesKernel<GpuBatchParams>("BatchParams", 72);

    /// <summary>Reads "type name; // offset:" lines of <paramref name="structName"/> in the embedded augment.cu and compares them with the C# fields.</summary>
    private static void AssertMatchesKernel<T>(string structName, int size)
    {
        Assert.Equal(size, Marshal.SizeOf<T>());
        var source = KernelCompiler.ReadEmbeddedSource(AugmentKernel.SourceFile);
        var body = Regex.Match(source, $@"struct {structName} \{{(?<body>.*?)\n\}};", RegexOptions.Singleline);
        Assert.True(body.Success, $"struct {structName} not found in augment.cu");
        var fields = FieldLine().Matches(body.Groups["body"].Value);
        Assert.NotEmpty(fields);
        var csharpFields = typeof(T).GetFields().Select(f => f.Name).ToList();
        Assert.Equal(fields.Count, csharpFields.Count);
        foreach (Match field in fields)
        {
            var name = field.Groups["name"].Value;
            var csharpName = char.ToUpperInvariant(name[0]) + name[1..];
            Assert.Contains(csharpName, csharpFields);
            Assert.Equal(int.Parse(field.Groups["offset"].Value, System.Globalization.CultureInfo.InvariantCulture), (int)Marshal.OffsetOf<T>(csharpName));
        }
    }

    [GeneratedRegex(@"^[ \t]*[\w \t\*]+?\b(?<name>\w+)(\[\d+\])?;[ \t]*//[ \t]*(?<offset>\d+):", RegexOptions.Multiline)]
    private static partial Regex FieldLine();
}
