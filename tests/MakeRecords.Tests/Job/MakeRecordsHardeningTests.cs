using Loader.Records;
using Loader.Records.Index;
using Loader.Records.Reading;
using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecords.Tests.Job;

/// <summary>make-records run as a hostile or unlucky user would: concurrent runs, output inside input, link loops,
/// empty classes, out-of-range options, killed runs. Each ends in a one-line error or a correct set, never a silent
/// change or a set that looks complete and is not.</summary>
public class MakeRecordsHardeningTests
{
    private static string Tree(TempDirectory dir, int classes = 2, int perClass = 3)
    {
        string input = dir.Combine("train");
        for (int c = 0; c < classes; c++)
        {
            Directory.CreateDirectory(Path.Combine(input, $"c{c}"));
            for (int i = 0; i < perClass; i++)
            {
                File.WriteAllBytes(Path.Combine(input, $"c{c}", $"{i}.jpg"), TestImages.Jpeg(16 + i, 12 + c, seed: (c * 10) + i));
            }
        }

        return input;
    }

    private static JobResult Run(MakeRecordsOptions options) => new MakeRecordsJob(options).Run(TestContext.Current.CancellationToken);

    [Fact]
    public void Run_SecondRunIntoAFolderBeingWritten_FailsAtOnce()
    {
        using var dir = new TempDirectory();
        string input = Tree(dir);
        string output = dir.Combine("out");
        Directory.CreateDirectory(Path.Combine(output, MakeRecordsJob.WorkFolderName));
        // What the first run holds for its whole length.
        using (var held = new FileStream(Path.Combine(output, MakeRecordsJob.WorkFolderName, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var e = Assert.Throws<IOException>(() => Run(new MakeRecordsOptions(input, output)));
            Assert.Equal($"{output}: another make-records run is writing into this folder (it holds {Path.Combine(output, MakeRecordsJob.WorkFolderName, "lock")}); wait for it to finish", e.Message);
        }

        Assert.Equal(6, Run(new MakeRecordsOptions(input, output)).Report.Records); // released: the next run goes ahead
    }

    [Fact]
    public void Run_OutputInsideInput_IsRefused()
    {
        using var dir = new TempDirectory();
        string input = Tree(dir);
        string output = Path.Combine(input, "records");
        var e = Assert.Throws<ArgumentException>(() => Run(new MakeRecordsOptions(input, output)));
        Assert.Equal($"--output {output} is inside --input {input}: choose an output folder outside the input", e.Message);
        Assert.False(Directory.Exists(output));

        // Through a link to the input, too.
        string link = dir.Combine("link");
        Directory.CreateSymbolicLink(link, input);
        Assert.Throws<ArgumentException>(() => Run(new MakeRecordsOptions(link, Path.Combine(input, "records"))));
    }

    [Fact]
    public void Run_SymlinkLoops_AreWalkedOnce_EveryFileOnceWithItsLabel()
    {
        using var dir = new TempDirectory();
        string input = Tree(dir);
        Directory.CreateSymbolicLink(Path.Combine(input, "c0", "self"), Path.Combine(input, "c0"));
        Directory.CreateSymbolicLink(Path.Combine(input, "c0", "up"), input);
        Directory.CreateSymbolicLink(Path.Combine(input, "c1", "other"), Path.Combine(input, "c0"));
        File.CreateSymbolicLink(Path.Combine(input, "c1", "linked.jpg"), Path.Combine(input, "c1", "0.jpg")); // a link to a file is followed

        var clock = System.Diagnostics.Stopwatch.StartNew();
        JobResult result = Run(new MakeRecordsOptions(input, dir.Combine("out")) { Seed = 1 });
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 10);
        Assert.Equal(7, result.Report.Records);
        Assert.Equal(["c0/self", "c0/up", "c1/other"], result.Report.NotWritten.Where(f => f.Reason?.Contains("already scanned", StringComparison.Ordinal) == true)
                                                                     .Select(f => f.Path).Order(StringComparer.Ordinal));
        using var dataset = RecordDataset.Open(dir.Combine("out"));
        Assert.Equal(7, dataset.Count);
    }

    [Fact]
    public void Run_EmptyClassFolder_IsRefusedUnlessAllowed()
    {
        using var dir = new TempDirectory();
        string input = Tree(dir);
        Directory.CreateDirectory(Path.Combine(input, "c9-empty"));
        var e = Assert.Throws<InvalidDataException>(() => Run(new MakeRecordsOptions(input, dir.Combine("out"))));
        Assert.Equal($"{Path.Combine(input, "c9-empty")}: empty class folder (no files): remove it, or pass --allow-empty-classes to keep it as a class with no records", e.Message);

        JobResult allowed = Run(new MakeRecordsOptions(input, dir.Combine("out")) { AllowEmptyClasses = true });
        Assert.Equal(3, allowed.Manifest.Classes.Count);
        Assert.Equal(0, allowed.Manifest.Classes[2].Count);
    }

    [Theory]
    [InlineData("threads", "--threads must be at least 1 (got 0)")]
    [InlineData("shards", "--shards must be between 1 and 99999 (got 0)")]
    [InlineData("shard-size", "--shard-size must be at least 1MB (got 1 bytes)")]
    [InlineData("quality", "--quality must be between 1 and 100 (got 101)")]
    [InlineData("max-side", "--max-side must be at least 1 (got 0)")]
    public void Run_NumericOptionOutOfRange_IsAnErrorNotAChangedValue(string option, string message)
    {
        using var dir = new TempDirectory();
        var options = new MakeRecordsOptions(Tree(dir), dir.Combine("out"));
        options = option switch
        {
            "threads" => options with { Threads = 0 },
            "shards" => options with { Shards = 0 },
            "shard-size" => options with { ShardSize = 1 },
            "quality" => options with { Sanitize = new(Quality: 101) },
            _ => options with { Sanitize = new(MaxSide: 0) },
        };
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => Run(options)).Message);
        Assert.False(Directory.Exists(dir.Combine("out")));
    }

    [Theory]
    [InlineData("2147483647")]
    [InlineData("99999999999999")]
    [InlineData("131072")]
    public void Run_FileListLabelBeyondASaneClassCount_IsAnError(string label)
    {
        using var dir = new TempDirectory();
        string input = Tree(dir);
        string list = dir.Combine("list.txt");
        File.WriteAllText(list, $"c0/0.jpg 0\nc0/1.jpg {label}\n");
        var e = Assert.Throws<InvalidDataException>(() => Run(new MakeRecordsOptions(input, dir.Combine("out")) { FileList = list }));
        Assert.Equal($"{list}, line 2: label {label} is beyond the 131072 classes a file list may have (labels are 0-based class numbers)", e.Message);
    }

    [Fact]
    public void Run_KilledBeforeTheEnd_LeavesNoManifest_AndTheFolderIsRefusedAsIncomplete()
    {
        using var dir = new TempDirectory();
        string input = Tree(dir, perClass: 4);
        string output = dir.Combine("out");
        Run(new MakeRecordsOptions(input, output) { Shards = 2, Seed = 1 });

        // A rerun with another seed dies before it is done (as a kill or a full disk would stop it).
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new MakeRecordsJob(new MakeRecordsOptions(input, output) { Shards = 2, Seed = 2 }).Run(cancel.Token));

        Assert.False(File.Exists(Path.Combine(output, ShardNaming.ManifestFileName)));
        var e = Assert.Throws<RecordFormatException>(() => RecordDataset.Open(output));
        Assert.Contains("it is make-records output (.make-records/) whose run did not finish", e.Message, StringComparison.Ordinal);
        Assert.False(DatasetVerifier.Verify(output).Ok);
    }

    [Fact]
    public void Run_TfRecordInputWithoutManifestOrNumbering_NeedsAllowPartial()
    {
        using var dir = new TempDirectory();
        string source = dir.Combine("src");
        Directory.CreateDirectory(source);
        TestRecords.WriteShard(source, "a.tfrecord", [(TestImages.Jpeg(8, 8), 0), (TestImages.Jpeg(9, 8), 1)]);
        Assert.Throws<RecordFormatException>(() => Run(new MakeRecordsOptions(source, dir.Combine("out"))));
        JobResult result = Run(new MakeRecordsOptions(source, dir.Combine("out")) { AllowPartial = true });
        Assert.Equal(2, result.Report.Records);
        Assert.Contains(result.Report.NotWritten, f => f.Reason?.StartsWith("PARTIAL (--allow-partial): ", StringComparison.Ordinal) == true);
    }
}
