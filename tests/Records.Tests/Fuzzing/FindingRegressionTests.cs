using System.Buffers.Binary;
using Loader.Records.Index;

namespace Loader.Records.Tests.Fuzzing;

/// <summary>The exact outcome for each parser bug the fuzzer found (the inputs are in corpus/*/finding-*).</summary>
public class FindingRegressionTests
{
    private static string Finding(string target, string name) => Path.Combine(FuzzCorpus.Folder, target, name);

    [Fact]
    public void IndexLengthFieldBeyondWhatLz4CanReach_IsRefusedBeforeAllocating()
    {
        // 20 bytes claiming 1 GiB of index: allocated in full before this fix.
        byte[] file = File.ReadAllBytes(Finding("index", "finding-1GB-claim-in-20-bytes"))[1..];
        Assert.Equal(1 << 30, BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(8)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<RecordFormatException>(() => ShardIndex.FromBytes(file, "bomb.index"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 10);
        Assert.Equal("bomb.index: corrupt shard index (length 1073741824)", e.Message);
    }

    [Theory]
    [InlineData("finding-length-field-claims-64MB")]
    [InlineData("finding-length-field-out-of-memory")]
    public void IndexFoundByTheFuzzer_IsRefusedAsCorrupt(string name)
    {
        byte[] file = File.ReadAllBytes(Finding("index", name))[1..];
        var e = Assert.Throws<RecordFormatException>(() => ShardIndex.FromBytes(file, "fuzzed.index"));
        Assert.StartsWith("fuzzed.index: corrupt shard index (length ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestWithANullFile_IsRefusedNamingTheField()
    {
        var e = Assert.Throws<RecordFormatException>(() =>
            DatasetManifest.FromJson(File.ReadAllText(Finding("manifest", "finding-file-null.json")), "m.json"));
        Assert.Equal("m.json: shards[0].file: missing, null or empty", e.Message);
    }

    [Fact]
    public void ManifestWithANullShard_IsRefusedNamingIt()
    {
        var e = Assert.Throws<RecordFormatException>(() =>
            DatasetManifest.FromJson(File.ReadAllText(Finding("manifest", "finding-shard-null.json")), "m.json"));
        Assert.StartsWith("m.json: shards[0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestMissingAField_IsRefusedNamingIt()
    {
        const string json = """{"formatVersion":1,"name":"x","recordCount":0,"classes":[{"index":0,"name":"a","count":0}],"shards":[]}""";
        var e = Assert.Throws<RecordFormatException>(() => DatasetManifest.FromJson(json, "m.json"));
        Assert.Contains("synset", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("finding-missing-field-0")]
    [InlineData("finding-missing-field-1")]
    [InlineData("finding-missing-field-2")]
    [InlineData("finding-missing-field-3")]
    [InlineData("finding-missing-field-4")]
    public void ManifestFoundByTheFuzzer_IsRefusedAsInvalid(string name)
    {
        var e = Assert.Throws<RecordFormatException>(() =>
            DatasetManifest.FromJson(File.ReadAllText(Finding("manifest", name)), "m.json"));
        Assert.StartsWith("m.json: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestWithoutSourceOrMaxSide_StillReads()
    {
        // Both are written only when set: required-field checking must not refuse what make-records writes.
        const string json = """{"formatVersion":1,"name":"x","recordCount":0,"classes":[],"shards":[]}""";
        Assert.Null(DatasetManifest.FromJson(json, "m.json").Source);
        var withSource = new DatasetManifest(1, "x", 0, [], [], new ManifestSource("in", "folder", 0, 0, 0, 0, 0, null));
        Assert.Null(DatasetManifest.FromJson(withSource.ToJson(), "m.json").Source!.MaxSide);
    }
}
