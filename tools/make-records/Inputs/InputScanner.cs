using System.Globalization;
using Loader.Records;
using Loader.Records.Index;

namespace Loader.Tools.MakeRecords.Inputs;

/// <summary>
/// Finds the inputs: a class-subfolder tree (ImageFolder: class = folder name, sorted), a flat folder named like
/// the ImageNet sample (<c>SYNSET_class_name.JPEG</c>: class = synset prefix), a DALI-style file list
/// (<c>relative/path label</c> per line), or a folder of TFRecord files (re-indexed and verified on the way through).
/// Every file is listed, images or not: the sanitizer decides, and the report says why a file was left out.
/// </summary>
internal static class InputScanner
{
    public const string KindImageFolder = "image-folder";
    public const string KindFlatFolder = "flat-folder";
    public const string KindFileList = "file-list";
    public const string KindTfRecord = "tfrecord";

    public static InputSet Scan(string input, string? fileList)
    {
        if (!Directory.Exists(input))
        {
            throw new DirectoryNotFoundException($"input folder not found: {input}");
        }

        if (fileList is not null)
        {
            return ScanFileList(input, fileList);
        }

        string[] subfolders = [.. Directory.EnumerateDirectories(input).Select(Path.GetFileName).OfType<string>()
                                           .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)];
        string[] files = [.. Directory.EnumerateFiles(input).Order(StringComparer.Ordinal)];
        if (subfolders.Length > 0)
        {
            return ScanImageFolder(input, subfolders) with
            {
                Ignored = [.. files.Select(f => (Path.GetFileName(f), "not in a class folder (the input has class subfolders)"))],
            };
        }

        if (files.Any(ShardNaming.LooksLikeShard))
        {
            return ScanTfRecords(input);
        }

        if (files.Length == 0)
        {
            throw new InvalidDataException($"{input}: no class folders, images or TFRecord files");
        }

        return ScanFlatFolder(input, files);
    }

    private static InputSet ScanImageFolder(string root, string[] classFolders)
    {
        var classes = new List<ClassInfo>();
        var items = new List<InputItem>();
        foreach (string folder in classFolders)
        {
            int label = classes.Count;
            classes.Add(new ClassInfo(label, folder, folder));
            string classPath = Path.Combine(root, folder);
            foreach (string file in Directory.EnumerateFiles(classPath, "*", SearchOption.AllDirectories)
                                             .Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal))
            {
                string full = Path.Combine(root, file);
                items.Add(new InputItem(Normalize(file), label, new FileInfo(full).Length, new FileSource(full)));
            }
        }

        return new InputSet(root, KindImageFolder, classes, items);
    }

    /// <summary>ImageNet-sample layout: <c>n01440764_tench.JPEG</c>; class = the part before the first '_'.</summary>
    private static InputSet ScanFlatFolder(string root, string[] files)
    {
        var bySynset = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            (string synset, string name) = SplitSynset(Path.GetFileNameWithoutExtension(file));
            bySynset.TryAdd(synset, name);
        }

        var classes = bySynset.Select((pair, i) => new ClassInfo(i, pair.Key, pair.Value)).ToList();
        var labelOf = classes.ToDictionary(c => c.Synset, c => c.Index, StringComparer.Ordinal);
        var items = files.Select(f => new InputItem(Path.GetFileName(f), labelOf[SplitSynset(Path.GetFileNameWithoutExtension(f)).Synset],
                                                    new FileInfo(f).Length, new FileSource(f))).ToList();
        return new InputSet(root, KindFlatFolder, classes, items);
    }

    private static (string Synset, string Name) SplitSynset(string stem)
    {
        int underscore = stem.IndexOf('_', StringComparison.Ordinal);
        return underscore > 0 ? (stem[..underscore], stem[(underscore + 1)..].Replace('_', ' ')) : (stem, stem);
    }

    /// <summary>DALI's file_list: <c>relative/path label</c> per line, label 0-based; the path may hold spaces.</summary>
    private static InputSet ScanFileList(string root, string fileList)
    {
        if (!File.Exists(fileList))
        {
            throw new FileNotFoundException($"file list not found: {fileList}");
        }

        var entries = new List<(string Path, int Label)>();
        int lineNumber = 0;
        foreach (string raw in File.ReadLines(fileList))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int space = line.LastIndexOfAny([' ', '\t']);
            if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int label))
            {
                throw new InvalidDataException($"{fileList}, line {lineNumber}: expected \"relative/path label\", got \"{line}\"");
            }

            entries.Add((Normalize(line[..space].TrimEnd()), label));
        }

        int classCount = entries.Count == 0 ? 0 : entries.Max(e => e.Label) + 1;
        var classes = new List<ClassInfo>();
        for (int c = 0; c < classCount; c++)
        {
            // Name a class after the folder its files share, when they do (DALI lists are usually synset/file).
            string[] folders = [.. entries.Where(e => e.Label == c).Select(e => FirstFolder(e.Path)).Distinct()];
            string id = c.ToString(CultureInfo.InvariantCulture);
            string name = folders.Length == 1 && folders[0].Length > 0 ? folders[0] : id;
            classes.Add(new ClassInfo(c, name, name));
        }

        var items = entries.Select(e =>
        {
            string full = Path.Combine(root, e.Path);
            long size = File.Exists(full) ? new FileInfo(full).Length : 0;
            return new InputItem(e.Path, e.Label, size, new FileSource(full));
        }).ToList();
        return new InputSet(root, KindFileList, classes, items);
    }

    private static InputSet ScanTfRecords(string root)
    {
        // Opening indexes the shards (on the fly when they have no index) and checks their framing and CRCs.
        RecordDataset dataset = RecordDataset.Open(root);
        try
        {
            var items = new List<InputItem>((int)dataset.Count);
            for (long id = 0; id < dataset.Count; id++)
            {
                RecordEntry entry = dataset.GetEntry(id);
                string shardFile = Path.GetFileName(dataset.GetShardPath(entry.Shard));
                items.Add(new InputItem(string.Create(CultureInfo.InvariantCulture, $"{shardFile}#{entry.RecordInShard}"),
                                        entry.Label, entry.Length, new RecordSource(dataset, id)));
            }

            return new InputSet(root, KindTfRecord, dataset.Classes, items) { OpenedRecords = dataset };
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    private static string FirstFolder(string path)
    {
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 ? path[..slash] : string.Empty;
    }

    private static string Normalize(string relativePath) => relativePath.Replace('\\', '/');
}
