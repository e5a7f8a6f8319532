using Loader.Records;
using Loader.Records.Index;
using Loader.Tools.MakeRecords.Inputs.ImageNet;

namespace Loader.Tools.MakeRecords.Inputs;

/// <summary>
/// <c>--classes-from DIR</c>: the classes, in their order, of a training set, so that another set (validation)
/// gets the same labels even when it lacks a class (the class count stays the training set's). DIR is the training
/// images (class folders, a flat <c>SYNSET_*.JPEG</c> folder, or per-class tar files: the classes as a scan of DIR
/// would find them, without reading a file) or the training records (the manifest's classes; without a manifest,
/// the classes <see cref="RecordDataset.Open"/> finds in the indexes).
/// </summary>
internal sealed class ClassCatalog
{
    private readonly Dictionary<string, int> _labelOf;

    private ClassCatalog(string source, IReadOnlyList<ClassInfo> classes)
    {
        Source = source;
        Classes = classes;
        _labelOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ClassInfo c in classes)
        {
            if (!_labelOf.TryAdd(c.Synset, c.Index))
            {
                throw new InvalidDataException($"{source}: class {c.Synset} is listed twice: cannot map labels by synset");
            }
        }

        Synsets = _labelOf.Keys.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The folder the classes came from (as given).</summary>
    public string Source { get; }

    public IReadOnlyList<ClassInfo> Classes { get; }

    public IReadOnlySet<string> Synsets { get; }

    /// <summary>The label of <paramref name="synset"/>; an error naming <paramref name="where"/> when the training set
    /// has no such class.</summary>
    public int LabelOf(string synset, string where) =>
        _labelOf.TryGetValue(synset, out int label) ? label
            : throw new InvalidDataException($"{where}: class {synset} is not one of the {Classes.Count} classes of --classes-from {Source}");

    public static ClassCatalog Load(string source)
    {
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"--classes-from: folder not found: {source}");
        }

        string manifest = Path.Combine(source, ShardNaming.ManifestFileName);
        if (File.Exists(manifest))
        {
            return new ClassCatalog(source, [.. DatasetManifest.Read(manifest).Classes.Select(c => new ClassInfo(c.Index, c.Synset, c.Name))]);
        }

        string[] folders = InputScanner.ClassFolders(source);
        string[] files = InputScanner.TopFiles(source);
        IReadOnlyList<ClassInfo> classes;
        if (folders.Length > 0)
        {
            classes = [.. folders.Select((f, i) => new ClassInfo(i, f, f))];
        }
        else if (files.Any(ShardNaming.LooksLikeShard))
        {
            using RecordDataset dataset = RecordDataset.Open(source);
            classes = dataset.Classes;
        }
        else if (TarFolder.IsTarFolder(files))
        {
            classes = TarFolder.Classes(files);
        }
        else if (files.Any(ValidationLabels.LooksLikeValidationImage))
        {
            throw new InvalidDataException($"--classes-from {source}: a validation folder (ILSVRC2012_val_*): name the training images or records");
        }
        else
        {
            classes = InputScanner.FlatFolderClasses(files);
        }

        return classes.Count > 0 ? new ClassCatalog(source, classes)
            : throw new InvalidDataException($"--classes-from {source}: no classes there (no class folders, images, tar files or records)");
    }
}
