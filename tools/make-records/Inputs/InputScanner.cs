using System.Globalization;
using Loader.Records;
using Loader.Records.Index;
using Loader.Tools.MakeRecords.Inputs.ImageNet;

namespace Loader.Tools.MakeRecords.Inputs;

/// <summary>What, besides the input folder, decides what a scan takes.</summary>
internal sealed record ScanOptions
{
    /// <summary>A DALI-style file list, or null.</summary>
    public string? FileList { get; init; }

    /// <summary>Validation labels (--labels): the input is one flat folder of ILSVRC2012_val_NNNNNNNN images.</summary>
    public string? Labels { get; init; }

    /// <summary>The devkit's synset mapping for ground-truth ids (--synsets), or null: meta.mat beside the labels.</summary>
    public string? Synsets { get; init; }

    /// <summary>Take the classes, in their order, from this training folder or record set (--classes-from).</summary>
    public string? ClassesFrom { get; init; }

    /// <summary>Keep class folders without files as classes with no records (otherwise an error).</summary>
    public bool AllowEmptyClasses { get; init; }

    /// <summary>Take a folder of TFRecord files that cannot be shown complete (no manifest).</summary>
    public bool AllowPartial { get; init; }
}

/// <summary>
/// Finds the inputs: a class-subfolder tree (ImageFolder: class = folder name, sorted), a flat folder of
/// <c>SYNSET_*.JPEG</c> files (the ImageNet sample's <c>n01440764_tench.JPEG</c>, or ILSVRC2012's per-class training
/// tars extracted into one folder, <c>n01440764_10026.JPEG</c>: class = the synset prefix), a folder of per-class tar
/// files (<c>n01440764.tar</c>: class = the tar's name, members read in place), the validation folder
/// (<c>ILSVRC2012_val_NNNNNNNN.JPEG</c>, labels from <see cref="ScanOptions.Labels"/>), a DALI-style file list
/// (<c>relative/path label</c> per line), or a folder of TFRecord files (re-indexed and verified on the way through).
/// With <see cref="ScanOptions.ClassesFrom"/>, the classes and their order are the training set's.
/// Every file is listed, images or not: the sanitizer decides, and the report says why a file was left out.
/// </summary>
internal static class InputScanner
{
    public const string KindImageFolder = "image-folder";
    public const string KindFlatFolder = "flat-folder";
    public const string KindTarFolder = "tar-folder";
    public const string KindValidation = "validation-folder";
    public const string KindFileList = "file-list";
    public const string KindTfRecord = "tfrecord";

    /// <summary>The most classes a file list may declare (labels 0..this-1): more is a typo, not a data set.</summary>
    public const int MaxFileListClasses = RecordDataset.MaxClassesWithoutManifest;

    public static InputSet Scan(string input, ScanOptions options)
    {
        if (!Directory.Exists(input))
        {
            throw new DirectoryNotFoundException($"input folder not found: {input}");
        }

        if (options.FileList is not null)
        {
            if (options.Labels is not null || options.ClassesFrom is not null)
            {
                throw new ArgumentException("--labels and --classes-from do not apply to --file-list (its labels are numbers already)");
            }

            return ScanFileList(input, options.FileList);
        }

        ClassCatalog? catalog = options.ClassesFrom is { } from ? ClassCatalog.Load(from) : null;
        if (options.Labels is not null)
        {
            return ScanValidation(input, options, catalog);
        }

        if (options.Synsets is not null)
        {
            throw new ArgumentException("--synsets maps the devkit's validation ground truth: it needs --labels");
        }

        string[] subfolders = ClassFolders(input);
        string[] files = TopFiles(input);
        if (subfolders.Length > 0)
        {
            InputSet tree = ScanImageFolder(input, subfolders, options.AllowEmptyClasses, catalog);
            return tree with
            {
                Ignored = [.. files.Select(f => (Path.GetFileName(f), "not in a class folder (the input has class subfolders)")), .. tree.Ignored],
            };
        }

        if (files.Any(ShardNaming.LooksLikeShard))
        {
            return catalog is null ? ScanTfRecords(input, options.AllowPartial)
                : throw new ArgumentException("--classes-from does not apply to TFRecord input (its records carry their labels)");
        }

        if (files.Length == 0)
        {
            throw new InvalidDataException($"{input}: no class folders, images or TFRecord files");
        }

        if (TarFolder.IsTarFolder(files))
        {
            return TarFolder.Scan(input, files, catalog);
        }

        if (files.Any(f => ValidationLabels.LooksLikeValidationImage(f)))
        {
            throw new ArgumentException(
                $"{input}: holds ILSVRC2012_val_NNNNNNNN images, whose labels are in a separate file: pass --labels FILE "
                + "(LOC_val_solution.csv, imagenet_2012_validation_synset_labels.txt or the devkit's ILSVRC2012_validation_ground_truth.txt)");
        }

        return ScanFlatFolder(input, files, catalog);
    }

    /// <summary>The class folders of a tree: non-hidden subfolders, sorted by ordinal name.</summary>
    internal static string[] ClassFolders(string folder) =>
        [.. Directory.EnumerateDirectories(folder).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)];

    /// <summary>The files right in a folder (hidden ones too: the report says what became of them), full paths, sorted by ordinal name.</summary>
    internal static string[] TopFiles(string folder) => [.. Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal)];

    private static InputSet ScanImageFolder(string root, string[] classFolders, bool allowEmptyClasses, ClassCatalog? catalog)
    {
        var classes = new List<ClassInfo>();
        var items = new InputList();
        var ignored = new List<(string, string)>();
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
            int label = catalog?.LabelOf(folder, Path.Combine(root, folder)) ?? classes.Count;
            classes.Add(new ClassInfo(label, folder, folder));
            int before = items.Count;
            var files = new List<(string Relative, long Size)>();
            Walk(root, folder, walked, files, ignored);
            foreach ((string relative, long size) in files.OrderBy(f => f.Relative, StringComparer.Ordinal))
            {
                items.Add(relative, label, size);
            }

            if (items.Count == before && !allowEmptyClasses)
            {
                throw new InvalidDataException(
                    $"{Path.Combine(root, folder)}: empty class folder (no files): remove it, or pass --allow-empty-classes to keep it as a class with no records");
            }
        }

        return new InputSet(root, KindImageFolder, catalog?.Classes ?? classes, items, new FileSource(root)) { Ignored = ignored };
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

    /// <summary>A flat folder of <c>SYNSET_rest.EXT</c> files: the ImageNet sample (<c>n01440764_tench.JPEG</c>) or
    /// ILSVRC2012's training tars extracted into one folder (<c>n01440764_10026.JPEG</c>); class = the part before
    /// the first '_', its name the rest unless that is a number (then the synset).</summary>
    private static InputSet ScanFlatFolder(string root, string[] files, ClassCatalog? catalog)
    {
        IReadOnlyList<ClassInfo> classes = catalog?.Classes ?? FlatFolderClasses(files);
        Dictionary<string, int> labelOf = catalog is null ? classes.ToDictionary(c => c.Synset, c => c.Index, StringComparer.Ordinal) : [];
        var items = new InputList();
        foreach (string file in files)
        {
            string synset = SplitSynset(Path.GetFileNameWithoutExtension(file)).Synset;
            int label = catalog?.LabelOf(synset, file) ?? labelOf[synset];
            items.Add(Path.GetFileName(file), label, new FileInfo(file).Length);
        }

        return new InputSet(root, KindFlatFolder, classes, items, new FileSource(root));
    }

    /// <summary>The classes of a flat folder: its synset prefixes, sorted.</summary>
    internal static IReadOnlyList<ClassInfo> FlatFolderClasses(IEnumerable<string> files)
    {
        var bySynset = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            (string synset, string name) = SplitSynset(Path.GetFileNameWithoutExtension(file));
            bySynset.TryAdd(synset, name);
        }

        return [.. bySynset.Select((pair, i) => new ClassInfo(i, pair.Key, pair.Value))];
    }

    private static (string Synset, string Name) SplitSynset(string stem)
    {
        int underscore = stem.IndexOf('_', StringComparison.Ordinal);
        if (underscore <= 0)
        {
            return (stem, stem);
        }

        string rest = stem[(underscore + 1)..];
        return (stem[..underscore], rest.All(char.IsAsciiDigit) ? stem[..underscore] : rest.Replace('_', ' '));
    }

    /// <summary>ImageNet's validation folder: one flat folder of <c>ILSVRC2012_val_NNNNNNNN.JPEG</c>, labels from
    /// <see cref="ScanOptions.Labels"/>. Every file must have a label and every label a file.</summary>
    private static InputSet ScanValidation(string root, ScanOptions options, ClassCatalog? catalog)
    {
        string labelsPath = Path.GetFullPath(options.Labels!);
        if (ClassFolders(root) is { Length: > 0 } folders)
        {
            throw new InvalidDataException(
                $"{root}: --labels expects one flat folder of validation images, but it has subfolders ({folders[0]}, ...): "
                + "for class folders, leave --labels out");
        }

        ValidationLabels labels = ValidationLabels.Read(labelsPath, options.Synsets, catalog?.Synsets, catalog?.Source);
        IReadOnlyList<ClassInfo> classes = catalog?.Classes ?? labels.DeclaredClasses
            ?? [.. labels.Synsets.Order(StringComparer.Ordinal).Select((synset, i) => new ClassInfo(i, synset, synset))];
        var labelOf = classes.ToDictionary(c => c.Synset, c => c.Index, StringComparer.Ordinal);
        var items = new InputList();
        var ignored = new List<(string, string)>();
        var used = new Dictionary<int, string>();
        foreach (string file in TopFiles(root))
        {
            string name = Path.GetFileName(file);
            if (string.Equals(Path.GetFullPath(file), labelsPath, StringComparison.Ordinal) || name.StartsWith('.'))
            {
                ignored.Add((name, name.StartsWith('.') ? "hidden file in the validation folder" : "the --labels file"));
                continue;
            }

            string? synset = labels.SynsetOf(name, out int key, out string? problem);
            if (synset is null)
            {
                throw new InvalidDataException($"{file}: {problem}");
            }

            if (!used.TryAdd(key, name))
            {
                throw new InvalidDataException($"{file}: {labels.Path}, line {key} labels {used[key]} already");
            }

            int label = labelOf.TryGetValue(synset, out int l) ? l
                : throw new InvalidDataException($"{labels.Path}, line {key}: synset {synset} is not one of the {classes.Count} classes of {labels.Format} mapping");
            items.Add(name, label, new FileInfo(file).Length);
        }

        var unused = labels.Unused(used.Keys.ToHashSet()).ToList();
        if (unused.Count > 0)
        {
            throw new InvalidDataException(
                $"{labels.Path}, line {unused[0].Line}: a label for {unused[0].Image}, but no such file in {root} "
                + $"({unused.Count} label(s) without a file; {labels.Count} labels, {items.Count} labelled files)");
        }

        return new InputSet(root, KindValidation, classes, items, new FileSource(root)) { Ignored = ignored };
    }

    /// <summary>DALI's file_list: <c>relative/path label</c> per line, label 0-based; the path may hold spaces.</summary>
    private static InputSet ScanFileList(string root, string fileList)
    {
        if (!File.Exists(fileList))
        {
            throw new FileNotFoundException($"file list not found: {fileList}");
        }

        // One pass: each entry is stat-ed and stored as it is read, and, per label, the first folder of its files is
        // kept (null once they differ).
        var entries = new InputList();
        var folderOf = new Dictionary<int, string?>();
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

            string path = Normalize(line[..space].TrimEnd());
            var info = new FileInfo(Path.Combine(root, path));
            entries.Add(path, (int)label, info.Exists ? info.Length : 0);
            string folder = FirstFolder(path);
            if (!folderOf.TryGetValue((int)label, out string? seen))
            {
                folderOf[(int)label] = folder;
            }
            else if (seen is not null && seen != folder)
            {
                folderOf[(int)label] = null;
            }
        }

        int maxLabel = -1;
        foreach (int l in folderOf.Keys)
        {
            maxLabel = Math.Max(maxLabel, l);
        }

        int classCount = maxLabel + 1;
        var classes = new List<ClassInfo>(classCount);
        for (int c = 0; c < classCount; c++)
        {
            // Name a class after the folder its files share, when they do (DALI lists are usually synset/file).
            string id = c.ToString(CultureInfo.InvariantCulture);
            string name = folderOf.GetValueOrDefault(c) is { Length: > 0 } shared ? shared : id;
            classes.Add(new ClassInfo(c, name, name));
        }

        return new InputSet(root, KindFileList, classes, entries, new FileSource(root));
    }

    private static InputSet ScanTfRecords(string root, bool allowPartial)
    {
        // Opening indexes the shards (on the fly when they have no index) and checks their framing and CRCs.
        RecordDataset dataset = RecordDataset.Open(root, new RecordReadOptions(AllowPartial: allowPartial));
        try
        {
            var items = new InputList();
            for (long id = 0; id < dataset.Count; id++)
            {
                RecordEntry entry = dataset.GetEntry(id);
                string shardFile = Path.GetFileName(dataset.GetShardPath(entry.Shard));
                items.Add(string.Create(CultureInfo.InvariantCulture, $"{shardFile}#{entry.RecordInShard}"), entry.Label, entry.Length, id);
            }

            return new InputSet(root, KindTfRecord, dataset.Classes, items, new RecordSource(dataset))
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
