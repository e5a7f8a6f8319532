using System.Globalization;
using System.Text.RegularExpressions;
using Loader.Records;

namespace Loader.Tools.MakeRecords.Inputs.ImageNet;

/// <summary>
/// The labels of ImageNet's validation images (one flat folder of <c>ILSVRC2012_val_NNNNNNNN.JPEG</c>) from one of
/// the label files in use, its format detected from its first line:
/// <list type="bullet">
/// <item><c>csv</c>: Kaggle's <c>LOC_val_solution.csv</c>, header <c>ImageId,PredictionString</c>, rows
/// <c>ILSVRC2012_val_00008726,n02119789 255 142 454 329 ...</c>: the first word of PredictionString is the synset.</item>
/// <item><c>synset-per-line</c>: TensorFlow's <c>imagenet_2012_validation_synset_labels.txt</c>, line N the synset
/// of <c>ILSVRC2012_val_N</c>.</item>
/// <item><c>devkit</c>: the devkit's <c>ILSVRC2012_validation_ground_truth.txt</c>, line N the ILSVRC2012_ID of
/// <c>ILSVRC2012_val_N</c>, mapped to a WNID by the devkit's <c>data/meta.mat</c> (or an <c>ID WNID</c> text file).</item>
/// </list>
/// Every error is one line naming the file and line.
/// </summary>
internal sealed partial class ValidationLabels
{
    public const string FormatCsv = "csv";
    public const string FormatSynsetPerLine = "synset-per-line";
    public const string FormatDevkit = "devkit";

    private readonly Dictionary<string, (string Synset, int Line)> _byImageId;
    private readonly string?[] _byNumber; // positional formats: [N] = synset of ILSVRC2012_val_N (1-based)

    private ValidationLabels(string path, string format, Dictionary<string, (string, int)> byImageId, string?[] byNumber,
                             IReadOnlyList<ClassInfo>? declaredClasses)
    {
        Path = path;
        Format = format;
        _byImageId = byImageId;
        _byNumber = byNumber;
        DeclaredClasses = declaredClasses;
    }

    public string Path { get; }

    public string Format { get; }

    /// <summary>The classes the label file's own mapping declares (devkit: meta.mat's leaf synsets in WNID order, the
    /// order of a class-folder training set); null for formats that name only the synsets they use.</summary>
    public IReadOnlyList<ClassInfo>? DeclaredClasses { get; }

    /// <summary>Labels given by position (line N for <c>ILSVRC2012_val_N</c>) rather than by image id.</summary>
    public bool IsPositional => Format != FormatCsv;

    /// <summary>How many labels the file gives (rows or lines).</summary>
    public int Count => IsPositional ? _byNumber.Length - 1 : _byImageId.Count;

    /// <summary>Every synset the file names, each once.</summary>
    public IEnumerable<string> Synsets =>
        (IsPositional ? _byNumber.OfType<string>() : _byImageId.Values.Select(v => v.Synset)).Distinct(StringComparer.Ordinal);

    /// <param name="path">The label file.</param>
    /// <param name="synsetMap">The devkit's meta.mat or an <c>ID WNID</c> file; null: <c>meta.mat</c> beside the labels.</param>
    /// <param name="knownSynsets">The classes labels must come from (--classes-from), or null: any WordNet id.</param>
    /// <param name="knownFrom">Where <paramref name="knownSynsets"/> came from, for messages.</param>
    public static ValidationLabels Read(string path, string? synsetMap, IReadOnlySet<string>? knownSynsets, string? knownFrom)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"label file not found: {path}");
        }

        List<(string Text, int Line)> lines = [];
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length > 0)
            {
                lines.Add((line, number));
            }
        }

        if (lines.Count == 0)
        {
            throw new InvalidDataException($"{path}: empty label file");
        }

        string first = lines[0].Text;
        string CheckSynset(string synset, int line)
        {
            if (knownSynsets is not null)
            {
                return knownSynsets.Contains(synset) ? synset
                    : throw new InvalidDataException($"{path}, line {line}: synset {synset} is not a class of --classes-from {knownFrom}");
            }

            return WordNetId().IsMatch(synset) ? synset
                : throw new InvalidDataException($"{path}, line {line}: \"{DevkitSynsets.Shorten(synset)}\" is not a WordNet id (nNNNNNNNN)");
        }

        if (first.StartsWith("ImageId,", StringComparison.Ordinal))
        {
            return ReadCsv(path, lines, CheckSynset);
        }

        if (int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return ReadDevkit(path, lines, synsetMap ?? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, "meta.mat"),
                              synsetMap is null, CheckSynset);
        }

        if (!first.Contains(' ', StringComparison.Ordinal) && !first.Contains(',', StringComparison.Ordinal))
        {
            string?[] byNumber = new string?[lines.Count + 1];
            for (int i = 0; i < lines.Count; i++)
            {
                (string text, int line) = lines[i];
                CheckPositional(path, lines[i], i);
                byNumber[i + 1] = CheckSynset(text, line);
            }

            return new ValidationLabels(path, FormatSynsetPerLine, [], byNumber, null);
        }

        throw new InvalidDataException(
            $"{path}, line {lines[0].Line}: not a label file this tool reads: expected a LOC_val_solution.csv header (ImageId,PredictionString), "
            + "one synset per line (TF's imagenet_2012_validation_synset_labels.txt) or one ILSVRC2012_ID per line (the devkit's ground truth)");
    }

    /// <summary>Positional formats: a blank line inside would shift every later label by one.</summary>
    private static void CheckPositional(string path, (string Text, int Line) line, int index)
    {
        if (line.Line != index + 1)
        {
            throw new InvalidDataException(
                $"{path}, line {index + 1}: blank line: labels are by line (line N for ILSVRC2012_val_N), so a blank line would shift every label after it");
        }
    }

    private static ValidationLabels ReadCsv(string path, List<(string Text, int Line)> lines, Func<string, int, string> checkSynset)
    {
        if (lines[0].Text != "ImageId,PredictionString")
        {
            throw new InvalidDataException($"{path}, line {lines[0].Line}: expected the header \"ImageId,PredictionString\", got \"{DevkitSynsets.Shorten(lines[0].Text)}\"");
        }

        var byImageId = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        foreach ((string text, int line) in lines.Skip(1))
        {
            int comma = text.IndexOf(',', StringComparison.Ordinal);
            string imageId = comma > 0 ? text[..comma].Trim() : "";
            string prediction = comma > 0 ? text[(comma + 1)..].Trim() : "";
            int space = prediction.IndexOfAny([' ', '\t']);
            string synset = space < 0 ? prediction : prediction[..space];
            if (imageId.Length == 0 || synset.Length == 0)
            {
                throw new InvalidDataException($"{path}, line {line}: expected \"ImageId,SYNSET x y x y ...\", got \"{DevkitSynsets.Shorten(text)}\"");
            }

            if (!byImageId.TryAdd(imageId, (checkSynset(synset, line), line)))
            {
                throw new InvalidDataException($"{path}, line {line}: ImageId {imageId} appears twice (first on line {byImageId[imageId].Item2})");
            }
        }

        return byImageId.Count > 0 ? new ValidationLabels(path, FormatCsv, byImageId, [], null)
            : throw new InvalidDataException($"{path}: a header and no rows");
    }

    private static ValidationLabels ReadDevkit(string path, List<(string Text, int Line)> lines, string mapPath, bool mapGuessed,
                                               Func<string, int, string> checkSynset)
    {
        if (mapGuessed && !File.Exists(mapPath))
        {
            throw new FileNotFoundException(
                $"{path}: ILSVRC2012_IDs need the devkit's synset mapping: no meta.mat beside it ({mapPath}); pass --synsets FILE (meta.mat, or \"ID WNID\" lines)");
        }

        IReadOnlyDictionary<int, DevkitSynset> synsets = DevkitSynsets.Read(mapPath);
        string?[] byNumber = new string?[lines.Count + 1];
        for (int i = 0; i < lines.Count; i++)
        {
            (string text, int line) = lines[i];
            CheckPositional(path, lines[i], i);
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                throw new InvalidDataException($"{path}, line {line}: expected an ILSVRC2012_ID (a whole number), got \"{DevkitSynsets.Shorten(text)}\"");
            }

            DevkitSynset synset = synsets.GetValueOrDefault(id)
                ?? throw new InvalidDataException($"{path}, line {line}: ILSVRC2012_ID {id} is not in {mapPath}");
            byNumber[i + 1] = checkSynset(synset.Wnid, line);
        }

        ClassInfo[] declared = [.. synsets.Values.Where(s => s.IsLeaf).OrderBy(s => s.Wnid, StringComparer.Ordinal)
                                       .Select((s, index) => new ClassInfo(index, s.Wnid, s.Words))];
        return new ValidationLabels(path, FormatDevkit, [], byNumber, declared);
    }

    /// <summary>The synset of a validation image, or null (with why) when the file gives it none.</summary>
    /// <param name="fileName">The image's file name (no folder).</param>
    /// <param name="key">The line that labels it (a key no other file may share).</param>
    /// <param name="problem">Why there is no label, when there is none.</param>
    public string? SynsetOf(string fileName, out int key, out string? problem)
    {
        string stem = System.IO.Path.GetFileNameWithoutExtension(fileName);
        problem = null;
        key = 0;
        if (!IsPositional)
        {
            if (_byImageId.TryGetValue(stem, out (string Synset, int Line) row))
            {
                key = row.Line;
                return row.Synset;
            }

            problem = $"no row for ImageId {stem} in {Path}";
            return null;
        }

        Match match = ValidationFileName().Match(stem);
        if (!match.Success)
        {
            problem = $"not named ILSVRC2012_val_NNNNNNNN: {Path} ({Format}) gives labels by line, line N for ILSVRC2012_val_N";
            return null;
        }

        int number = int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        if (number < 1 || number >= _byNumber.Length)
        {
            problem = $"{Path} has {Count} lines: no line {number} for this file";
            return null;
        }

        key = number;
        return _byNumber[number];
    }

    /// <summary>The label lines (or rows) no file took: (line, what it labels).</summary>
    public IEnumerable<(int Line, string Image)> Unused(IReadOnlySet<int> usedKeys)
    {
        if (IsPositional)
        {
            for (int n = 1; n < _byNumber.Length; n++)
            {
                if (!usedKeys.Contains(n))
                {
                    yield return (n, string.Create(CultureInfo.InvariantCulture, $"ILSVRC2012_val_{n:D8}"));
                }
            }

            yield break;
        }

        foreach ((string imageId, (string _, int line)) in _byImageId.OrderBy(p => p.Value.Line))
        {
            if (!usedKeys.Contains(line))
            {
                yield return (line, imageId);
            }
        }
    }

    public static bool LooksLikeValidationImage(string fileName) => ValidationFileName().IsMatch(System.IO.Path.GetFileNameWithoutExtension(fileName));

    [GeneratedRegex("^n[0-9]{8}$", RegexOptions.CultureInvariant)]
    private static partial Regex WordNetId();

    [GeneratedRegex("^ILSVRC2012_val_([0-9]{8})$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidationFileName();
}
