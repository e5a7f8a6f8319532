using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Loader.Records.Tests;

namespace Loader.Tools.MakeRecords.Tests.Inputs.ImageNet;

/// <summary>
/// A small ILSVRC2012-shaped tree, made by the tests: four synsets; the training set as class folders
/// (<c>train/n01440764/n01440764_0.JPEG</c>), as the per-class tars extracted into one folder (<c>train-flat/</c>) and as
/// the per-class tars themselves (<c>train-tars/n01440764.tar</c>); the validation set as one flat folder
/// (<c>val/ILSVRC2012_val_00000001.JPEG</c> ...) that lacks the last class; and the three label files in use:
/// <c>LOC_val_solution.csv</c>, TF's synset-per-line file, and the devkit's ground truth of ILSVRC2012_IDs with its
/// <c>data/meta.mat</c> (ids deliberately not in WNID order, plus an inner node of the hierarchy).
/// </summary>
internal sealed class ImageNetTree
{
    /// <summary>The training classes, sorted: the class order of a class-folder training set.</summary>
    public static readonly string[] Synsets = ["n01440764", "n01443537", "n01484850", "n01491361"];

    /// <summary>The devkit's ILSVRC2012_ID of each synset above (not in sorted-WNID order, as in the real devkit).</summary>
    public static readonly int[] DevkitIds = [2, 4, 1, 3];

    /// <summary>The synset of ILSVRC2012_val_N at [N-1]: n01491361 (the last class) has no validation image.</summary>
    public static readonly string[] ValSynsets = ["n01484850", "n01440764", "n01440764", "n01443537", "n01484850", "n01443537", "n01440764"];

    public const int TrainPerClass = 3;

    public ImageNetTree(TempDirectory dir)
    {
        Root = dir.Path;
        Directory.CreateDirectory(Train);
        Directory.CreateDirectory(TrainFlat);
        Directory.CreateDirectory(TrainTars);
        for (int c = 0; c < Synsets.Length; c++)
        {
            string synset = Synsets[c];
            Directory.CreateDirectory(Path.Combine(Train, synset));
            using var tar = new TarWriter(File.Create(Path.Combine(TrainTars, synset + ".tar")), TarEntryFormat.Pax, leaveOpen: false);
            for (int i = 0; i < TrainPerClass; i++)
            {
                string file = $"{synset}_{(i * 37) + 10026}.JPEG";
                byte[] jpeg = TestImages.Jpeg(24 + i, 20 + c, seed: (c * 10) + i);
                File.WriteAllBytes(Path.Combine(Train, synset, file), jpeg);
                File.WriteAllBytes(Path.Combine(TrainFlat, file), jpeg);
                string extracted = Path.Combine(Root, "tar-staging", file);
                Directory.CreateDirectory(Path.GetDirectoryName(extracted)!);
                File.WriteAllBytes(extracted, jpeg);
                tar.WriteEntry(extracted, file);
            }
        }

        Directory.CreateDirectory(Val);
        for (int n = 1; n <= ValSynsets.Length; n++)
        {
            File.WriteAllBytes(Path.Combine(Val, ValFile(n)), TestImages.Jpeg(30, 22, seed: 100 + n));
        }

        // Kaggle's CSV: rows in no particular order, the synset first in PredictionString, then a box (and more boxes).
        var csv = new StringBuilder("ImageId,PredictionString\n");
        foreach (int n in Enumerable.Range(1, ValSynsets.Length).Reverse())
        {
            string synset = ValSynsets[n - 1];
            csv.Append(CultureInfo.InvariantCulture, $"ILSVRC2012_val_{n:D8},{synset} 10 12 20 18 {synset} 1 2 5 6 \n");
        }

        File.WriteAllText(CsvLabels, csv.ToString());
        File.WriteAllText(TfLabels, string.Join('\n', ValSynsets) + "\n");
        Directory.CreateDirectory(Path.GetDirectoryName(DevkitLabels)!);
        File.WriteAllText(DevkitLabels, string.Join('\n', ValSynsets.Select(s => DevkitIds[Array.IndexOf(Synsets, s)])) + "\n");
        File.WriteAllBytes(MetaMat, MetaMatBytes(compress: true));
    }

    public string Root { get; }

    public string Train => Path.Combine(Root, "train");

    public string TrainFlat => Path.Combine(Root, "train-flat");

    public string TrainTars => Path.Combine(Root, "train-tars");

    public string Val => Path.Combine(Root, "val");

    public string CsvLabels => Path.Combine(Root, "LOC_val_solution.csv");

    public string TfLabels => Path.Combine(Root, "imagenet_2012_validation_synset_labels.txt");

    public string DevkitLabels => Path.Combine(Root, "ILSVRC2012_devkit_t12", "data", "ILSVRC2012_validation_ground_truth.txt");

    public string MetaMat => Path.Combine(Root, "ILSVRC2012_devkit_t12", "data", "meta.mat");

    public static string ValFile(int n) => string.Create(CultureInfo.InvariantCulture, $"ILSVRC2012_val_{n:D8}.JPEG");

    /// <summary>The devkit's meta.mat: struct array <c>synsets</c> with the devkit's fields, the four leaves and one
    /// inner node (id 5, two children), in id order.</summary>
    public static byte[] MetaMatBytes(bool compress, bool integersAsUInt8 = false)
    {
        string[] fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height", "num_train_images"];
        var rows = new List<object[]>();
        for (int id = 1; id <= Synsets.Length; id++)
        {
            string wnid = Synsets[Array.IndexOf(DevkitIds, id)];
            rows.Add([(double)id, wnid, $"words of {wnid}, a class", "a gloss", 0.0, Array.Empty<double>(), 0.0, 1300.0]);
        }

        rows.Add([5.0, "n00001740", "entity", "that which is perceived", 2.0, new[] { 1.0, 2.0 }, 19.0, 0.0]);
        return MatFileWriter.StructArray("synsets", fields, [.. rows], compress, integersAsUInt8);
    }
}
