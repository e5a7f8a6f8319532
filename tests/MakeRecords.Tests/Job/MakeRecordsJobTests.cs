using System.Text.Json;
using Loader.Records;
using Loader.Records.Index;
using Loader.Records.Reading;
using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecords.Tests.Job;

public class MakeRecordsJobTests
{
    /// <summary>An ImageFolder tree with 3 classes, good JPEGs plus a PNG named .JPEG, an empty file and a text file.</summary>
    private static Dictionary<string, byte[]> MakeTree(string root, int perClass = 6)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        string[] classes = ["n02", "n01", "n03"];
        for (int c = 0; c < classes.Length; c++)
        {
            Directory.CreateDirectory(Path.Combine(root, classes[c]));
            for (int i = 0; i < perClass; i++)
            {
                string rel = $"{classes[c]}/{classes[c]}_{i}.JPEG";
                files[rel] = TestImages.Jpeg(20 + i, 18 + c, seed: (c * 50) + i);
            }
        }

        files["n01/png_in_disguise.JPEG"] = TestImages.Png(21, 13, seed: 9);
        files["n02/empty.JPEG"] = [];
        files["n03/notes.txt"] = "hello"u8.ToArray();
        files["README.txt"] = "a loose file beside the class folders"u8.ToArray();
        foreach ((string rel, byte[] bytes) in files)
        {
            File.WriteAllBytes(Path.Combine(root, rel), bytes);
        }

        return files;
    }

    [Fact]
    public void Run_ImageFolder_RoundTripsEveryInputToWhereTheReportAndIndexSay()
    {
        using var dir = new TempDirectory();
        string input = dir.Combine("train");
        Dictionary<string, byte[]> files = MakeTree(input);
        string report = dir.Combine("report.json");
        JobResult result = new MakeRecordsJob(new MakeRecordsOptions(input, dir.Combine("out")) { Shards = 3, Seed = 5, Threads = 2, ReportPath = report }).Run(TestContext.Current.CancellationToken);

        Assert.Equal(files.Count, result.Report.InputFiles);
        Assert.Equal(3, result.Report.Skipped);
        Assert.Equal(1, result.Report.Reencoded);
        using var dataset = RecordDataset.Open(dir.Combine("out"));
        Assert.Equal(["n01", "n02", "n03"], dataset.Classes.Select(c => c.Synset));
        Assert.Equal(files.Count - 3, dataset.Count);
        Assert.True(DatasetVerifier.Verify(dir.Combine("out")).Ok);

        // The report is the file's JSON, one entry per input, and every written entry points at its bytes.
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(report));
        JsonElement[] entries = [.. json.RootElement.GetProperty("files").EnumerateArray()];
        Assert.Equal(files.Count, entries.Length);
        var shardStart = new Dictionary<string, long>();
        for (int s = 0; s < dataset.ShardCount; s++)
        {
            shardStart[Path.GetFileName(dataset.GetShardPath(s))] = Enumerable.Range(0, (int)dataset.Count).First(i => dataset.GetEntry(i).Shard == s);
        }

        byte[] buffer = [];
        foreach (JsonElement entry in entries)
        {
            string path = entry.GetProperty("path").GetString()!;
            string status = entry.GetProperty("status").GetString()!;
            if (status == "skipped")
            {
                Assert.Contains(path, new[] { "n02/empty.JPEG", "n03/notes.txt", "README.txt" });
                Assert.False(string.IsNullOrEmpty(entry.GetProperty("reason").GetString()));
                continue;
            }

            long id = shardStart[entry.GetProperty("shard").GetString()!] + entry.GetProperty("record").GetInt32();
            EncodedImage image = dataset.ReadImage(id, ref buffer);
            Assert.Equal(dataset.Classes.Single(c => c.Synset == path[..3]).Index, image.Label);
            Assert.Equal(path, dataset.GetFileName(id));
            if (status == "written")
            {
                Assert.Equal(files[path], buffer.AsSpan(image.Offset, image.Length).ToArray());
            }
            else
            {
                Assert.Equal("n01/png_in_disguise.JPEG", path);
                Assert.Equal("PNG re-encoded as JPEG", entry.GetProperty("reason").GetString());
            }
        }
    }

    [Fact]
    public void Run_SameInputAndSeed_ByteIdenticalOutputForThreads1And3()
    {
        using var dir = new TempDirectory();
        string input = dir.Combine("train");
        MakeTree(input, perClass: 8);
        new MakeRecordsJob(new MakeRecordsOptions(input, dir.Combine("a")) { Shards = 2, Seed = 42, Threads = 1 }).Run(TestContext.Current.CancellationToken);
        new MakeRecordsJob(new MakeRecordsOptions(input, dir.Combine("b")) { Shards = 2, Seed = 42, Threads = 3 }).Run(TestContext.Current.CancellationToken);
        new MakeRecordsJob(new MakeRecordsOptions(input, dir.Combine("c")) { Shards = 2, Seed = 43, Threads = 3 }).Run(TestContext.Current.CancellationToken);

        string[] names = [.. Directory.GetFiles(dir.Combine("a")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        Assert.Equal(7, names.Length); // 2 x (shard, index, idx) + manifest
        foreach (string name in names)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Combine("a"), name)), File.ReadAllBytes(Path.Combine(dir.Combine("b"), name)));
        }

        string shard = ShardNaming.ShardFileName("train", 0, 2);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(dir.Combine("a"), shard)), File.ReadAllBytes(Path.Combine(dir.Combine("c"), shard)));
    }

    [Fact]
    public void Run_OneShard_ByteIdenticalOutputWhetherTheWriterIsPipelinedOrNot()
    {
        // One shard and several threads: records are prepared on workers and the writer hashes on its own thread.
        using var dir = new TempDirectory();
        string input = dir.Combine("train");
        MakeTree(input, perClass: 8);
        foreach ((string output, int threads) in new[] { ("a", 1), ("b", 2), ("c", 4) })
        {
            new MakeRecordsJob(new MakeRecordsOptions(input, dir.Combine(output)) { Shards = 1, Seed = 9, Threads = threads })
                .Run(TestContext.Current.CancellationToken);
        }

        string[] names = [.. Directory.GetFiles(dir.Combine("a")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        Assert.Equal(4, names.Length); // shard, index, idx, manifest (with the shard's SHA-256)
        foreach (string name in names)
        {
            byte[] expected = File.ReadAllBytes(Path.Combine(dir.Combine("a"), name));
            Assert.Equal(expected, File.ReadAllBytes(Path.Combine(dir.Combine("b"), name)));
            Assert.Equal(expected, File.ReadAllBytes(Path.Combine(dir.Combine("c"), name)));
        }
    }

    [Fact]
    public void Run_AfterAKilledRun_KeepsFinishedShardsAndFinishesTheJob()
    {
        using var dir = new TempDirectory();
        string input = dir.Combine("train");
        MakeTree(input);
        string output = dir.Combine("out");
        var options = new MakeRecordsOptions(input, output) { Shards = 3, Seed = 1, Threads = 2 };
        new MakeRecordsJob(options).Run(TestContext.Current.CancellationToken);
        byte[] manifest = File.ReadAllBytes(Path.Combine(output, ShardNaming.ManifestFileName));

        // Simulate a kill while shard 1 was being written: its temporary file exists, the final one does not,
        // and no manifest was written yet.
        string shard1 = Path.Combine(output, ShardNaming.ShardFileName("train", 1, 3));
        File.Move(shard1, shard1 + ".tmp");
        File.Delete(Path.Combine(output, ShardNaming.ManifestFileName));

        JobResult rerun = new MakeRecordsJob(options).Run(TestContext.Current.CancellationToken);
        Assert.Equal(2, rerun.Report.ShardsReused);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(output, ShardNaming.ManifestFileName)));
        Assert.False(File.Exists(shard1 + ".tmp"));
        Assert.True(DatasetVerifier.Verify(output).Ok);
        Assert.Equal(rerun.Report.InputFiles - rerun.Report.Written, rerun.Report.NotWritten.Count);

        // Another shard count: the old shards are removed, not left beside the new ones.
        new MakeRecordsJob(options with { Shards = 2 }).Run(TestContext.Current.CancellationToken);
        Assert.Equal(2, Directory.GetFiles(output, "*.tfrecord").Length);
    }

    [Fact]
    public void Run_FlatFolderAndFileList_AreReadWithTheirLabels()
    {
        using var dir = new TempDirectory();
        string flat = dir.Combine("flat");
        Directory.CreateDirectory(flat);
        File.WriteAllBytes(Path.Combine(flat, "n01440764_tench.JPEG"), TestImages.Jpeg(20, 20, seed: 1));
        File.WriteAllBytes(Path.Combine(flat, "n01443537_goldfish.JPEG"), TestImages.Jpeg(20, 20, seed: 2));
        File.WriteAllBytes(Path.Combine(flat, "n01443537_goldfish_2.JPEG"), TestImages.Jpeg(20, 20, seed: 3));
        new MakeRecordsJob(new MakeRecordsOptions(flat, dir.Combine("flat-out"))).Run(TestContext.Current.CancellationToken);
        using (var dataset = RecordDataset.Open(dir.Combine("flat-out")))
        {
            Assert.Equal([new ClassInfo(0, "n01440764", "tench"), new ClassInfo(1, "n01443537", "goldfish")], dataset.Classes);
            Assert.Equal(3, dataset.Count);
        }

        string list = dir.Combine("list.txt");
        File.WriteAllText(list, "n01443537_goldfish.JPEG 4\nn01440764_tench.JPEG 2\n");
        JobResult result = new MakeRecordsJob(new MakeRecordsOptions(flat, dir.Combine("list-out")) { FileList = list }).Run(TestContext.Current.CancellationToken);
        Assert.Equal(2, result.Report.Records);
        using var listed = RecordDataset.Open(dir.Combine("list-out"));
        Assert.Equal(5, listed.Classes.Count);
        Assert.Equal([2, 4], Enumerable.Range(0, 2).Select(i => listed.GetEntry(i).Label).Order());
    }

    [Fact]
    public void Run_TfRecordInput_IsReindexedVerifiedAndRewritten()
    {
        using var dir = new TempDirectory();
        string source = dir.Combine("src");
        Directory.CreateDirectory(source);
        var images = TestRecords.Write(source, shards: 2, perShard: 5);
        // Drop our index and manifest: the input is then plain TFRecord files, as from another tool.
        foreach (string file in Directory.GetFiles(source).Where(f => !f.EndsWith(".tfrecord", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }

        JobResult result = new MakeRecordsJob(new MakeRecordsOptions(source, dir.Combine("out")) { Name = "again", Shards = 1 }).Run(TestContext.Current.CancellationToken);
        Assert.Equal(10, result.Report.Written);
        using var dataset = RecordDataset.Open(dir.Combine("out"));
        var read = new List<(byte[], int)>();
        byte[] buffer = [];
        for (int id = 0; id < dataset.Count; id++)
        {
            EncodedImage image = dataset.ReadImage(id, ref buffer);
            read.Add((buffer.AsSpan(image.Offset, image.Length).ToArray(), image.Label));
        }

        Assert.Equal(images.Select(i => Convert.ToHexString(i.Jpeg) + i.Label).Order(), read.Select(i => Convert.ToHexString(i.Item1) + i.Item2).Order());
    }
}
