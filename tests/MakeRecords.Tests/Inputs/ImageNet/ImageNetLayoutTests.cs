using System.Security.Cryptography;
using System.Text.Json;
using Loader.Records;
using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Inputs;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecords.Tests.Inputs.ImageNet;

/// <summary>make-records on an ILSVRC2012-shaped tree: every training layout gives the same classes and labels, and
/// every validation label file gives each validation image its synset's label in the training set's class order.</summary>
public class ImageNetLayoutTests
{
    private static JobResult Make(string input, string output, string? labels = null, string? classesFrom = null, string? synsets = null,
                                  string? report = null) =>
        new MakeRecordsJob(new MakeRecordsOptions(input, output)
        {
            Shards = 2, Seed = 3, Threads = 2, Labels = labels, ClassesFrom = classesFrom, Synsets = synsets, ReportPath = report,
        }).Run(TestContext.Current.CancellationToken);

    /// <summary>Per record: the file it came from (image/filename, read back through the report) and its label.</summary>
    private static Dictionary<string, int> LabelsByFile(string records, string report)
    {
        using var dataset = RecordDataset.Open(records);
        var firstOfShard = new Dictionary<string, long>();
        for (long id = 0; id < dataset.Count; id++)
        {
            firstOfShard.TryAdd(Path.GetFileName(dataset.GetShardPath(dataset.GetEntry(id).Shard)), id);
        }

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(report));
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonElement entry in json.RootElement.GetProperty("files").EnumerateArray())
        {
            Assert.Equal("written", entry.GetProperty("status").GetString());
            long id = firstOfShard[entry.GetProperty("shard").GetString()!] + entry.GetProperty("record").GetInt32();
            int label = dataset.GetEntry(id).Label;
            Assert.Equal(entry.GetProperty("label").GetInt32(), label); // the report and the record agree
            labels[entry.GetProperty("path").GetString()!] = label;
        }

        Assert.Equal(dataset.Count, labels.Count);
        return labels;
    }

    public static TheoryData<string, string> LabelFormats => new()
    {
        { "csv", "images" }, { "csv", "records" }, { "tf", "images" }, { "tf", "records" }, { "tf", "tars" }, { "devkit", "images" },
        { "devkit", "records" }, { "devkit", "flat" },
    };

    [Theory]
    [MemberData(nameof(LabelFormats))]
    public void Validation_EveryLabelFile_GivesEveryImageItsSynsetInTrainsClassOrder_EvenWithAClassMissing(string format, string classesFrom)
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        string trainRecords = dir.Combine("records-train");
        Make(tree.Train, trainRecords);
        string from = classesFrom switch
        {
            "records" => trainRecords,
            "tars" => tree.TrainTars,
            "flat" => tree.TrainFlat,
            _ => tree.Train,
        };
        string labels = format switch { "csv" => tree.CsvLabels, "tf" => tree.TfLabels, _ => tree.DevkitLabels };
        string report = dir.Combine("report.json");

        JobResult result = Make(tree.Val, dir.Combine("records-val"), labels, from, report: report);

        using var train = RecordDataset.Open(trainRecords);
        using var val = RecordDataset.Open(dir.Combine("records-val"));
        Assert.Equal(ImageNetTree.Synsets, train.Classes.Select(c => c.Synset));
        Assert.Equal(train.Classes.Select(c => (c.Index, c.Synset)), val.Classes.Select(c => (c.Index, c.Synset)));
        Assert.Equal(0, result.Manifest.Classes[^1].Count); // the class the validation set lacks is still a class
        Dictionary<string, int> byFile = LabelsByFile(dir.Combine("records-val"), report);
        Assert.Equal(ImageNetTree.ValSynsets.Length, byFile.Count);
        for (int n = 1; n <= ImageNetTree.ValSynsets.Length; n++)
        {
            Assert.Equal(Array.IndexOf(ImageNetTree.Synsets, ImageNetTree.ValSynsets[n - 1]), byFile[ImageNetTree.ValFile(n)]);
        }
    }

    [Fact]
    public void Validation_WithoutClassesFrom_DevkitTakesMetaMatsLeavesInWnidOrder_OthersTheSynsetsTheyName()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);

        JobResult devkit = Make(tree.Val, dir.Combine("devkit"), tree.DevkitLabels);
        Assert.Equal(ImageNetTree.Synsets, devkit.Manifest.Classes.Select(c => c.Synset)); // leaves only, id 5 is an inner node
        Assert.Equal("words of n01443537, a class", devkit.Manifest.Classes[1].Name);
        Assert.Equal(InputScanner.KindValidation, devkit.Report.InputKind);

        JobResult csv = Make(tree.Val, dir.Combine("csv"), tree.CsvLabels);
        Assert.Equal(ImageNetTree.Synsets[..3], csv.Manifest.Classes.Select(c => c.Synset));
    }

    [Fact]
    public void Validation_PlainIdToWnidMapping_AndAnUncompressedMetaMatWithUInt8Numbers_GiveTheSameLabels()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        string mapping = dir.Combine("mapping.txt");
        File.WriteAllLines(mapping, ["# ILSVRC2012_ID WNID words", .. ImageNetTree.DevkitIds.Select((id, c) => $"{id} {ImageNetTree.Synsets[c]} some words")]);
        string plainMat = dir.Combine("plain.mat");
        File.WriteAllBytes(plainMat, ImageNetTree.MetaMatBytes(compress: false, integersAsUInt8: true));

        var expected = ImageNetTree.ValSynsets.Select(s => Array.IndexOf(ImageNetTree.Synsets, s)).ToArray();
        foreach (string map in (string[])[mapping, plainMat])
        {
            string output = dir.Combine("out-" + Path.GetFileName(map));
            string report = output + ".json";
            Make(tree.Val, output, tree.DevkitLabels, tree.Train, synsets: map, report: report);
            Dictionary<string, int> byFile = LabelsByFile(output, report);
            Assert.Equal(expected, Enumerable.Range(1, expected.Length).Select(n => byFile[ImageNetTree.ValFile(n)]));
        }
    }

    [Fact]
    public void Train_ClassFolders_FlatFolder_AndTarFiles_GiveTheSameClassesAndTheSameImagesUnderEachLabel()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        var sets = new List<HashSet<(string, int)>>();
        foreach ((string input, string kind) in new[]
                 {
                     (tree.Train, InputScanner.KindImageFolder), (tree.TrainFlat, InputScanner.KindFlatFolder), (tree.TrainTars, InputScanner.KindTarFolder),
                 })
        {
            string output = dir.Combine("records-" + Path.GetFileName(input));
            JobResult result = Make(input, output);
            Assert.Equal(kind, result.Report.InputKind);
            Assert.Equal(0, result.Report.Skipped);
            Assert.Equal(ImageNetTree.Synsets, result.Manifest.Classes.Select(c => c.Synset));
            Assert.Equal(ImageNetTree.Synsets, result.Manifest.Classes.Select(c => c.Name)); // numbered file names: the synset names the class
            using var dataset = RecordDataset.Open(output);
            var images = new HashSet<(string, int)>();
            byte[] buffer = [];
            for (long id = 0; id < dataset.Count; id++)
            {
                EncodedImage image = dataset.ReadImage(id, ref buffer);
                images.Add((Convert.ToHexString(SHA256.HashData(buffer.AsSpan(image.Offset, image.Length))), image.Label));
            }

            Assert.Equal(ImageNetTree.Synsets.Length * ImageNetTree.TrainPerClass, images.Count);
            sets.Add(images);
        }

        Assert.Equal(sets[0], sets[1]);
        Assert.Equal(sets[0], sets[2]);
    }

    [Fact]
    public void Train_ClassesFrom_GivesASubsetTheFullClassListAndRefusesAClassOutsideIt()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        string subset = dir.Combine("subset");
        Directory.CreateDirectory(Path.Combine(subset, ImageNetTree.Synsets[2]));
        File.Copy(Directory.GetFiles(Path.Combine(tree.Train, ImageNetTree.Synsets[2]))[0], Path.Combine(subset, ImageNetTree.Synsets[2], "a.JPEG"));

        JobResult result = Make(subset, dir.Combine("out"), classesFrom: tree.Train);
        Assert.Equal(ImageNetTree.Synsets, result.Manifest.Classes.Select(c => c.Synset));
        using (var dataset = RecordDataset.Open(dir.Combine("out")))
        {
            Assert.Equal(2, dataset.GetEntry(0).Label);
        }

        Directory.CreateDirectory(Path.Combine(subset, "n09999999"));
        File.WriteAllBytes(Path.Combine(subset, "n09999999", "b.JPEG"), TestImages.Jpeg(8, 8));
        var e = Assert.Throws<InvalidDataException>(() => Make(subset, dir.Combine("out2"), classesFrom: tree.Train));
        Assert.Equal($"{Path.Combine(subset, "n09999999")}: class n09999999 is not one of the 4 classes of --classes-from {tree.Train}", e.Message);
    }

    [Fact]
    public void ValidationFolder_WithoutLabels_IsRefusedWithWhatToPass()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        var e = Assert.Throws<ArgumentException>(() => Make(tree.Val, dir.Combine("out")));
        Assert.Contains("pass --labels FILE", e.Message, StringComparison.Ordinal);
    }
}
