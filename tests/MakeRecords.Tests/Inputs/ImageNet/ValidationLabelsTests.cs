using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecords.Tests.Inputs.ImageNet;

/// <summary>Label files that do not match the validation folder: one line naming the file and the line, never a crash.</summary>
public class ValidationLabelsTests
{
    /// <summary>Runs make-records on the tree's validation folder with the label file <paramref name="labels"/> and returns the error.</summary>
    private static Exception Fails(ImageNetTree tree, TempDirectory dir, string labels, string? classesFrom = null, string? synsets = null)
    {
        var job = new MakeRecordsJob(new MakeRecordsOptions(tree.Val, dir.Combine("out"))
        {
            Labels = labels, ClassesFrom = classesFrom, Synsets = synsets, Threads = 1,
        });
        Exception e = Assert.ThrowsAny<Exception>(() => job.Run(TestContext.Current.CancellationToken));
        Assert.True(e is InvalidDataException or FileNotFoundException or ArgumentException, e.ToString());
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    private static string[] CsvLines(ImageNetTree tree) => File.ReadAllLines(tree.CsvLabels);

    [Fact]
    public void Csv_ARowMissing_NamesTheFileWithoutOne()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        File.WriteAllLines(tree.CsvLabels, CsvLines(tree).Where(l => !l.StartsWith("ILSVRC2012_val_00000004", StringComparison.Ordinal)));
        Exception e = Fails(tree, dir, tree.CsvLabels);
        Assert.Equal($"{Path.Combine(tree.Val, ImageNetTree.ValFile(4))}: no row for ImageId ILSVRC2012_val_00000004 in {tree.CsvLabels}", e.Message);
    }

    [Fact]
    public void Csv_ARowWithoutAFile_NamesItsLine()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        File.WriteAllLines(tree.CsvLabels, [.. CsvLines(tree), "ILSVRC2012_val_00000099,n01440764 1 2 3 4"]);
        Exception e = Fails(tree, dir, tree.CsvLabels);
        Assert.StartsWith($"{tree.CsvLabels}, line 9: a label for ILSVRC2012_val_00000099, but no such file in {tree.Val}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_TruncatedMidRow_BadHeader_Duplicates_AndNonWordNetIds_AreOneLineEach()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        string[] lines = CsvLines(tree);

        File.WriteAllLines(tree.CsvLabels, [.. lines[..3], "ILSVRC2012_val_00000005"]);
        Assert.Equal($"{tree.CsvLabels}, line 4: expected \"ImageId,SYNSET x y x y ...\", got \"ILSVRC2012_val_00000005\"", Fails(tree, dir, tree.CsvLabels).Message);

        File.WriteAllLines(tree.CsvLabels, ["ImageId,Label", .. lines[1..]]);
        Assert.StartsWith($"{tree.CsvLabels}, line 1: expected the header \"ImageId,PredictionString\"", Fails(tree, dir, tree.CsvLabels).Message, StringComparison.Ordinal);

        File.WriteAllLines(tree.CsvLabels, [.. lines, lines[2]]);
        Assert.Equal($"{tree.CsvLabels}, line 9: ImageId ILSVRC2012_val_00000006 appears twice (first on line 3)", Fails(tree, dir, tree.CsvLabels).Message);

        File.WriteAllLines(tree.CsvLabels, [.. lines[..2], "ILSVRC2012_val_00000006,tench 1 2 3 4", .. lines[3..]]);
        Assert.Equal($"{tree.CsvLabels}, line 3: \"tench\" is not a WordNet id (nNNNNNNNN)", Fails(tree, dir, tree.CsvLabels).Message);
    }

    [Fact]
    public void UnknownSynset_WithClassesFrom_NamesTheLineAndTheTrainingSet()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        string[] tf = File.ReadAllLines(tree.TfLabels);
        tf[4] = "n09999999";
        File.WriteAllLines(tree.TfLabels, tf);
        Assert.Equal($"{tree.TfLabels}, line 5: synset n09999999 is not a class of --classes-from {tree.Train}",
                     Fails(tree, dir, tree.TfLabels, classesFrom: tree.Train).Message);
    }

    [Fact]
    public void SynsetPerLine_OneLineShort_OneLineLong_AndABlankLine_AreOneLineEach()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        string[] tf = File.ReadAllLines(tree.TfLabels);

        File.WriteAllLines(tree.TfLabels, tf[..^1]);
        Assert.Equal($"{Path.Combine(tree.Val, ImageNetTree.ValFile(7))}: {tree.TfLabels} has 6 lines: no line 7 for this file",
                     Fails(tree, dir, tree.TfLabels).Message);

        File.WriteAllLines(tree.TfLabels, [.. tf, "n01440764"]);
        Assert.Equal($"{tree.TfLabels}, line 8: a label for ILSVRC2012_val_00000008, but no such file in {tree.Val} (1 label(s) without a file; 8 labels, 7 labelled files)",
                     Fails(tree, dir, tree.TfLabels).Message);

        File.WriteAllLines(tree.TfLabels, [.. tf[..3], "", .. tf[3..]]);
        Assert.StartsWith($"{tree.TfLabels}, line 4: blank line", Fails(tree, dir, tree.TfLabels).Message, StringComparison.Ordinal);

        File.WriteAllText(tree.TfLabels, "");
        Assert.Equal($"{tree.TfLabels}: empty label file", Fails(tree, dir, tree.TfLabels).Message);

        File.WriteAllText(tree.TfLabels, "n01440764 n01443537\n");
        Assert.StartsWith($"{tree.TfLabels}, line 1: not a label file this tool reads", Fails(tree, dir, tree.TfLabels).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileNotNamedLikeTheValidationSet_IsNamed_WhenLabelsAreByLine()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        File.WriteAllText(Path.Combine(tree.Val, "readme.txt"), "not an image");
        Assert.StartsWith($"{Path.Combine(tree.Val, "readme.txt")}: not named ILSVRC2012_val_NNNNNNNN", Fails(tree, dir, tree.TfLabels).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Devkit_UnknownId_MissingMetaMat_GarbageAndTruncatedMetaMat_AreOneLineEach()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        string[] ids = File.ReadAllLines(tree.DevkitLabels);

        File.WriteAllLines(tree.DevkitLabels, [.. ids[..5], "9", ids[6]]);
        Assert.Equal($"{tree.DevkitLabels}, line 6: ILSVRC2012_ID 9 is not in {tree.MetaMat}", Fails(tree, dir, tree.DevkitLabels).Message);

        File.WriteAllLines(tree.DevkitLabels, [.. ids[..5], "x7", ids[6]]);
        Assert.Equal($"{tree.DevkitLabels}, line 6: expected an ILSVRC2012_ID (a whole number), got \"x7\"", Fails(tree, dir, tree.DevkitLabels).Message);
        File.WriteAllLines(tree.DevkitLabels, ids);

        byte[] meta = File.ReadAllBytes(tree.MetaMat);
        File.WriteAllBytes(tree.MetaMat, [.. meta[..200]]);
        Assert.StartsWith($"{tree.MetaMat}: byte 128: ", Fails(tree, dir, tree.DevkitLabels).Message, StringComparison.Ordinal);

        File.WriteAllBytes(tree.MetaMat, [.. "MATLAB 5.0 MAT-file"u8, .. new byte[300]]);
        Assert.StartsWith($"{tree.MetaMat}: ", Fails(tree, dir, tree.DevkitLabels).Message, StringComparison.Ordinal);

        File.WriteAllText(tree.MetaMat, "garbage, not a MAT-file\n");
        Assert.StartsWith($"{tree.MetaMat}, line 1: expected \"ILSVRC2012_ID WNID [words]\"", Fails(tree, dir, tree.DevkitLabels).Message, StringComparison.Ordinal);

        File.Delete(tree.MetaMat);
        Assert.StartsWith($"{tree.DevkitLabels}: ILSVRC2012_IDs need the devkit's synset mapping: no meta.mat beside it", Fails(tree, dir, tree.DevkitLabels).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MetaMat_WithoutTheSynsetsVariable_OrItsFields_IsNamed()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        File.WriteAllBytes(tree.MetaMat, MatFileWriter.StructArray("other", ["a"], [[1.0]], compress: true));
        Assert.Equal($"{tree.MetaMat}: no struct array named \"synsets\" (is this the devkit's data/meta.mat?)", Fails(tree, dir, tree.DevkitLabels).Message);

        File.WriteAllBytes(tree.MetaMat, MatFileWriter.StructArray("synsets", ["ILSVRC2012_ID", "words"], [[1.0, "w"]], compress: true));
        Assert.Equal($"{tree.MetaMat}: synsets has no field WNID (fields: ILSVRC2012_ID, words)", Fails(tree, dir, tree.DevkitLabels).Message);

        File.WriteAllBytes(tree.MetaMat, MatFileWriter.StructArray("synsets", ["ILSVRC2012_ID", "WNID"], [[1.5, "n01440764"]], compress: true));
        Assert.Equal($"{tree.MetaMat}: synsets(1).ILSVRC2012_ID: expected one positive whole number", Fails(tree, dir, tree.DevkitLabels).Message);
    }

    [Fact]
    public void Program_BadLabelFile_Exits2()
    {
        using var dir = new TempDirectory();
        var tree = new ImageNetTree(dir);
        File.WriteAllLines(tree.TfLabels, File.ReadAllLines(tree.TfLabels)[..^2]);
        Assert.Equal(2, Program.Main(["--input", tree.Val, "--output", dir.Combine("out"), "--labels", tree.TfLabels]));
        Assert.Equal(2, Program.Main(["--input", tree.Val, "--output", dir.Combine("out"), "--labels", dir.Combine("missing.csv")]));
        Assert.Equal(2, Program.Main(["--input", tree.Val, "--output", dir.Combine("out"), "--labels", tree.CsvLabels, "--classes-from", dir.Combine("nowhere")]));
        Assert.Equal(0, Program.Main(["--input", tree.Val, "--output", dir.Combine("out"), "--labels", tree.CsvLabels, "--classes-from", tree.Train]));
    }
}
