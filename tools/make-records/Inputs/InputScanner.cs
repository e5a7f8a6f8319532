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

    /// <summary>The most classes a file list may declare (labels 0..this-1): more is a typo, not a data set.</summary>
    public const int MaxFileListClasses = RecordDataset.MaxClassesWithoutManifest;

    /// <param name="input">The input folder.</param>
    /// <param name="fileList">A DALI-style file list, or null.</param>
    /// <param name="allowEmptyClasses">Keep class folders without files as classes with no records (otherwise an error).</param>
    /// <param name="allowPartial">Take a folder of TFRecord files that cannot be shown complete (no manifest).</param>
    public static InputSet Scan(string input, string? fileList, bool allowEmptyClasses = false, bool allowPartial = false)
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
            InputSet tree = ScanImageFolder(input, subfolders, allowEmptyClasses);
            return tree with
            {
                Ignored = [.. files.Select(f => (Path.GetFileName(f), "not in a class folder (the input has class subfolders)")), .. tree.Ignored],
            };
        }

        if (files.Any(ShardNaming.LooksLikeShard))
        {
            return ScanTfRecords(input, allowPartial);
        }

        if (files.Length == 0)
        {
            throw new InvalidDataException($"{input}: no class folders, images or TFRecord files");
        }

        return ScanFlatFolder(input, files);
    }

    private static InputSet ScanImageFolder(string root, string[] classFolders, bool allowEmptyClasses)
    {
        var classes = new List<ClassInfo>();
        var items = new List<InputItem>();
        var ignored = new List<(string, string)>();
        var source = new FileSource(root);
        // Real paths of the folders walked so far: a link back to one of them (a loop, or the same folder twice) is
        // not walked again, so no file is read twice and no walk goes round forever.
        // The root and every class folder are taken from the start: a link into another class, or up to the root, is
        // not a second way into its files (which would give them this class's label as well).
        var walked = new HashSet<string>(StringComparer.Ordinal);
        foreach (string folder in (string[])[root, .. classFolders.Select(f => Path.Combine(root, f))])
        {
            walked.Add(Interop.LibC.RealPath(folder) ?? folder);
        }

        foreach (string folder in classFolders)
        {
            int label = classes.Count;
            classes.Add(new ClassInfo(label, folder, folder));
            int before = items.Count;
            var files = new List<(string Relative, long Size)>();
            Walk(root, folder, walked, files, ignored);
            foreach ((string relative, long size) in files.OrderBy(f => f.Relative, StringComparer.Ordinal))
            {
                items.Add(new InputItem(relative, label, size, source, 0));
            }

            if (items.Count == before && !allowEmptyClasses)
            {
                throw new InvalidDataException(
                    $"{Path.Combine(root, folder)}: empty class folder (no files): remove it, or pass --allow-empty-classes to keep it as a class with no records");
            }
        }

        return new InputSet(root, KindImageFolder, classes, items) { Ignored = ignored };
    }

    /// <summary>Lists the files under <paramref name="relative"/> (paths relative to <paramref name="root"/>, with
    /// '/'), following links to files and to folders not walked yet.</summary>
    private static void Walk(string root, string relative, HashSet<string> walked, List<(string, long)> files, List<(string, string)> ignored)
    {
        var pending = new Stack<string>();
        pending.Push(relative);
        while (pending.Count > 0)
        {
            string folder = pending.Pop();
            string full = Path.Combine(root, folder);
            string? real = Interop.LibC.RealPath(full);
            if (real is null)
            {
                ignored.Add((Normalize(folder), "folder cannot be resolved (broken link or link loop)"));
                continue;
            }

            // The class folder itself was taken up front; anything below it must be new.
            if (folder != relative && !walked.Add(real))
            {
                ignored.Add((Normalize(folder), $"folder already scanned as {real} (a symbolic link back into the input): not read twice"));
                continue;
            }

            foreach (FileSystemInfo entry in new DirectoryInfo(full).EnumerateFileSystemInfos())
            {
                string child = folder + "/" + entry.Name;
                bool isFolder = entry is DirectoryInfo;
                if (entry.LinkTarget is not null && Directory.Exists(entry.FullName))
                {
                    isFolder = true; // a link to a folder: walked if its target was not
                }

                if (isFolder)
                {
                    pending.Push(child);
                }
                else
                {
                    // The size only plans the shards: a broken link counts 0 (and is skipped, unreadable, with its reason).
                    files.Add((Normalize(child), entry is FileInfo { Exists: true } file ? file.Length : 0));
                }
            }
        }
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
        var source = new FileSource(root);
        var items = files.Select(f => new InputItem(Path.GetFileName(f), labelOf[SplitSynset(Path.GetFileNameWithoutExtension(f)).Synset],
                                                    new FileInfo(f).Length, source, 0)).ToList();
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
            if (space <= 0 || !long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long label))
            {
                throw new InvalidDataException($"{fileList}, line {lineNumber}: expected \"relative/path label\", got \"{line}\"");
            }

            if (label >= MaxFileListClasses)
            {
                throw new InvalidDataException(
                    $"{fileList}, line {lineNumber}: label {label} is beyond the {MaxFileListClasses} classes a file list may have (labels are 0-based class numbers)");
            }

            entries.Add((Normalize(line[..space].TrimEnd()), (int)label));
        }

        int classCount = entries.Count == 0 ? 0 : entries.Max(e => e.Label) + 1;
        // One pass over the entries: per label, the first folder of its files, or null once they differ.
        var folderOf = new Dictionary<int, string?>();
        foreach ((string path, int label) in entries)
        {
            string folder = FirstFolder(path);
            folderOf[label] = folderOf.TryGetValue(label, out string? seen) && seen != folder ? null : folder;
        }

        var classes = new List<ClassInfo>(classCount);
        for (int c = 0; c < classCount; c++)
        {
            // Name a class after the folder its files share, when they do (DALI lists are usually synset/file).
            string id = c.ToString(CultureInfo.InvariantCulture);
            string name = folderOf.GetValueOrDefault(c) is { Length: > 0 } shared ? shared : id;
            classes.Add(new ClassInfo(c, name, name));
        }

        var source = new FileSource(root);
        var items = new List<InputItem>(entries.Count);
        foreach ((string path, int label) in entries)
        {
            var info = new FileInfo(Path.Combine(root, path));
            items.Add(new InputItem(path, label, info.Exists ? info.Length : 0, source, 0));
        }

        return new InputSet(root, KindFileList, classes, items);
    }

    private static InputSet ScanTfRecords(string root, bool allowPartial)
    {
        // Opening indexes the shards (on the fly when they have no index) and checks their framing and CRCs.
        RecordDataset dataset = RecordDataset.Open(root, new RecordReadOptions(AllowPartial: allowPartial));
        try
        {
            var items = new List<InputItem>((int)dataset.Count);
            var source = new RecordSource(dataset);
            for (long id = 0; id < dataset.Count; id++)
            {
                RecordEntry entry = dataset.GetEntry(id);
                string shardFile = Path.GetFileName(dataset.GetShardPath(entry.Shard));
                items.Add(new InputItem(string.Create(CultureInfo.InvariantCulture, $"{shardFile}#{entry.RecordInShard}"),
                                        entry.Label, entry.Length, source, id));
            }

            return new InputSet(root, KindTfRecord, dataset.Classes, items)
            {
                OpenedRecords = dataset,
                Ignored = [.. dataset.LeftOut.Select(line => (root, $"PARTIAL (--allow-partial): {line}"))],
            };
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
