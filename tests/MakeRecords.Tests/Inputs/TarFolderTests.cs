using System.Formats.Tar;
using Loader.Records;
using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecords.Tests.Inputs;

/// <summary>Per-class tar files read in place: members at their offsets, other member types listed, bad tars one line.</summary>
public class TarFolderTests
{
    private static JobResult Make(string input, string output) =>
        new MakeRecordsJob(new MakeRecordsOptions(input, output) { Shards = 1, Threads = 1 }).Run(TestContext.Current.CancellationToken);

    private static void WriteTar(string path, params (string Name, byte[] Data)[] members)
    {
        using var tar = new TarWriter(File.Create(path), TarEntryFormat.Gnu, leaveOpen: false);
        foreach ((string name, byte[] data) in members)
        {
            tar.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
    }

    [Fact]
    public void Members_AreReadAtTheirOffsets_LongNamesFoldersAndLinksIncluded()
    {
        using var dir = new TempDirectory();
        string input = dir.Combine("tars");
        Directory.CreateDirectory(input);
        byte[] a = TestImages.Jpeg(20, 16, seed: 1), b = TestImages.Jpeg(17, 23, seed: 2);
        string longName = "./" + new string('l', 150) + ".JPEG"; // beyond ustar's 100 bytes: a GNU long-name header
        using (var tar = new TarWriter(File.Create(Path.Combine(input, "n01440764.tar")), TarEntryFormat.Gnu, leaveOpen: false))
        {
            tar.WriteEntry(new GnuTarEntry(TarEntryType.Directory, "./"));
            tar.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, longName) { DataStream = new MemoryStream(a) });
            tar.WriteEntry(new GnuTarEntry(TarEntryType.SymbolicLink, "link.JPEG") { LinkName = longName });
        }

        WriteTar(Path.Combine(input, "n01443537.tar"), ("n01443537_1.JPEG", b));
        string report = dir.Combine("report.json");
        JobResult result = new MakeRecordsJob(new MakeRecordsOptions(input, dir.Combine("out")) { Shards = 1, Threads = 1, ReportPath = report })
            .Run(TestContext.Current.CancellationToken);

        Assert.Equal(["n01440764", "n01443537"], result.Manifest.Classes.Select(c => c.Synset));
        Assert.Equal(2, result.Report.Records);
        Assert.Equal(1, result.Report.Skipped); // the link, with its reason
        Assert.Contains("n01440764.tar/link.JPEG", File.ReadAllText(report), StringComparison.Ordinal);
        using var dataset = RecordDataset.Open(dir.Combine("out"));
        byte[] buffer = [];
        var images = new Dictionary<int, byte[]>();
        for (long id = 0; id < dataset.Count; id++)
        {
            EncodedImage image = dataset.ReadImage(id, ref buffer);
            images[image.Label] = buffer.AsSpan(image.Offset, image.Length).ToArray();
        }

        Assert.Equal(a, images[0]);
        Assert.Equal(b, images[1]);
    }

    [Fact]
    public void AGarbageTar_IsOneLineNamingIt()
    {
        using var dir = new TempDirectory();
        string input = dir.Combine("tars");
        Directory.CreateDirectory(input);
        WriteTar(Path.Combine(input, "n01440764.tar"), ("n01440764_1.JPEG", TestImages.Jpeg(8, 8)));
        byte[] garbage = new byte[2048];
        new Random(5).NextBytes(garbage);
        File.WriteAllBytes(Path.Combine(input, "n01443537.tar"), garbage);

        var e = Assert.Throws<InvalidDataException>(() => Make(input, dir.Combine("out")));
        Assert.StartsWith($"{Path.Combine(input, "n01443537.tar")}: not a readable tar file", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ATarCutInAMembersData_GivesThatMemberTruncated_NotACrash()
    {
        using var dir = new TempDirectory();
        string input = dir.Combine("tars");
        Directory.CreateDirectory(input);
        string path = Path.Combine(input, "n01440764.tar");
        WriteTar(path, ("n01440764_1.JPEG", TestImages.Jpeg(30, 30, seed: 1)), ("n01440764_2.JPEG", TestImages.Jpeg(30, 30, seed: 2)));
        byte[] whole = File.ReadAllBytes(path);
        int secondData = whole.Length - 1024 - (((TestImages.Jpeg(30, 30, seed: 2).Length + 511) / 512) * 512); // before the end blocks
        File.WriteAllBytes(path, whole[..(secondData + 100)]);

        JobResult result = Make(input, dir.Combine("out"));
        Assert.Equal(1, result.Report.Records);
        Assert.Equal(2, result.Report.Skipped); // the cut member (a truncated JPEG) and the tar's own line
        Assert.Contains(result.Report.NotWritten, o => o.Path == "n01440764.tar/n01440764_2.JPEG" && o.Reason!.Contains("truncated", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(result.Report.NotWritten, o => o.Path == "n01440764.tar" && o.Reason!.StartsWith("tar file ends early", StringComparison.Ordinal));
    }
}
