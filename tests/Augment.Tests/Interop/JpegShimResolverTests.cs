using System.Runtime.InteropServices;
using System.Text;
using Loader.Augment.Interop;

namespace Loader.Augment.Tests.Interop;

/// <summary>
/// A missing libjpeg-turbo runtime must be one line naming the package, not the runtime's probing report. The
/// failure here is real: a copy of the built shim whose DT_NEEDED entry names a libjpeg soname this machine lacks,
/// loaded by the dynamic loader.
/// </summary>
public sealed class JpegShimResolverTests
{
    private static readonly string[] AbsentCandidates = ["libjpeg.so.8", "libjpeg.so.62", "libjpeg.so.7"];

    [Fact]
    public void Load_ShimWhoseLibjpegIsMissing_ThrowsOneLineNamingTheSonameAndThePackage()
    {
        string shim = Path.Combine(AppContext.BaseDirectory, "libloader_jpeg.so");
        byte[] bytes = File.ReadAllBytes(shim);
        string needed = NeededLibjpeg(bytes);
        string absent = AbsentCandidates.First(name => name.Length <= needed.Length && name != needed && !CanLoad(name));

        string dir = Directory.CreateTempSubdirectory("jpeg-shim-").FullName;
        try
        {
            string copy = Path.Combine(dir, "libloader_jpeg.so");
            File.WriteAllBytes(copy, ReplaceString(bytes, needed, absent));

            var e = Assert.Throws<DllNotFoundException>(() => JpegShimResolver.Load(() => NativeLibrary.Load(copy)));

            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains($"needs {absent}, which is not installed", e.Message, StringComparison.Ordinal);
            Assert.Contains("libloader_jpeg.so", e.Message, StringComparison.Ordinal);
            string package = absent switch { "libjpeg.so.62" => "libjpeg62-turbo", "libjpeg.so.8" => "libjpeg-turbo8", _ => "libjpeg-turbo" };
            Assert.Contains(package, e.Message, StringComparison.Ordinal);
            Assert.IsType<DllNotFoundException>(e.InnerException); // the runtime's own report stays reachable
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Load_ShimFileMissing_KeepsTheRuntimesOwnMessage()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "no-such-dir", "libloader_jpeg.so");

        var e = Assert.Throws<DllNotFoundException>(() => JpegShimResolver.Load(() => NativeLibrary.Load(path)));

        Assert.Null(e.InnerException);
        Assert.Contains("no-such-dir", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheShimLoadsThroughTheResolver()
    {
        using var decoder = LibLoaderJpeg.Create();
        Assert.False(decoder.IsInvalid);
    }

    [Theory]
    [InlineData("libjpeg.so.62", "Debian 'apt-get install libjpeg62-turbo'")]
    [InlineData("libjpeg.so.8", "Ubuntu 'apt-get install libjpeg-turbo8'")]
    public void MissingRuntimeMessage_NamesThePackageThatProvidesTheSoname(string soname, string advice)
    {
        Assert.Contains(advice, JpegShimResolver.MissingRuntimeMessage(soname), StringComparison.Ordinal);
    }

    private static bool CanLoad(string soname)
    {
        if (!NativeLibrary.TryLoad(soname, out nint handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }

    /// <summary>The libjpeg soname in the shim's dynamic string table (what its DT_NEEDED entry points at).</summary>
    private static string NeededLibjpeg(byte[] elf)
    {
        int start = IndexOf(elf, "\0libjpeg.so."u8.ToArray()) + 1;
        Assert.True(start > 0, "the built shim names no libjpeg.so.N");
        int end = Array.IndexOf(elf, (byte)0, start);
        return Encoding.ASCII.GetString(elf, start, end - start);
    }

    /// <summary>Overwrites the NUL-terminated string <paramref name="from"/> in place with a no longer one.</summary>
    private static byte[] ReplaceString(byte[] elf, string from, string to)
    {
        byte[] copy = (byte[])elf.Clone();
        int at = IndexOf(copy, Encoding.ASCII.GetBytes("\0" + from + "\0")) + 1;
        Array.Clear(copy, at, from.Length);
        Encoding.ASCII.GetBytes(to).CopyTo(copy, at);
        return copy;
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
