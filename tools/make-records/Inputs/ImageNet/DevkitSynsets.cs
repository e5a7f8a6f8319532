using System.Globalization;

namespace Loader.Tools.MakeRecords.Inputs.ImageNet;

/// <summary>One synset of the ILSVRC2012 devkit: its ILSVRC2012_ID (1..1000 for the classes; the devkit's ids are not
/// in WNID order), WordNet id, words, and whether it is a leaf (a class) or an inner node of the hierarchy.</summary>
internal sealed record DevkitSynset(int Id, string Wnid, string Words, bool IsLeaf);

/// <summary>
/// The devkit's mapping from ILSVRC2012_ID to WNID, which its <c>ILSVRC2012_validation_ground_truth.txt</c> needs:
/// read from <c>data/meta.mat</c> (the struct array <c>synsets</c>, fields <c>ILSVRC2012_ID</c>, <c>WNID</c>,
/// <c>words</c>, <c>num_children</c>) or from a text file of <c>ID WNID [words]</c> lines.
/// </summary>
internal static class DevkitSynsets
{
    /// <summary>The synsets by id. Errors are one line naming the file (and line, for text).</summary>
    public static IReadOnlyDictionary<int, DevkitSynset> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"synset mapping not found: {path} (the devkit's data/meta.mat, or a text file of \"ID WNID\" lines)");
        }

        byte[] start = new byte[32];
        int read;
        using (FileStream file = File.OpenRead(path))
        {
            read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        }

        return MatFile.LooksLikeMatFile(start.AsSpan(0, read)) ? ReadMeta(path) : ReadText(path);
    }

    private static Dictionary<int, DevkitSynset> ReadMeta(string path)
    {
        MatStruct synsets = MatFile.Read(path).OfType<MatStruct>().FirstOrDefault(v => v.Name == "synsets")
            ?? throw new InvalidDataException($"{path}: no struct array named \"synsets\" (is this the devkit's data/meta.mat?)");
        foreach (string field in (string[])["ILSVRC2012_ID", "WNID"])
        {
            if (!synsets.FieldNames.Contains(field))
            {
                throw new InvalidDataException($"{path}: synsets has no field {field} (fields: {string.Join(", ", synsets.FieldNames)})");
            }
        }

        var byId = new Dictionary<int, DevkitSynset>();
        for (int i = 0; i < synsets.Elements.Length; i++)
        {
            string where = $"{path}: synsets({i + 1})";
            int id = synsets.Field(i, "ILSVRC2012_ID") is MatNumeric { Values: [double value] } && value == Math.Floor(value) && value is >= 1 and <= int.MaxValue
                ? (int)value
                : throw new InvalidDataException($"{where}.ILSVRC2012_ID: expected one positive whole number");
            string wnid = synsets.Field(i, "WNID") is MatChar { Text: { Length: > 0 } text } ? text.Trim()
                : throw new InvalidDataException($"{where}.WNID: expected text");
            string words = synsets.Field(i, "words") is MatChar w ? w.Text.Trim() : wnid;
            bool leaf = synsets.Field(i, "num_children") is not MatNumeric { Values: [double children] } || children == 0;
            if (!byId.TryAdd(id, new DevkitSynset(id, wnid, words, leaf)))
            {
                throw new InvalidDataException($"{where}: ILSVRC2012_ID {id} appears twice");
            }
        }

        return byId;
    }

    private static Dictionary<int, DevkitSynset> ReadText(string path)
    {
        var byId = new Dictionary<int, DevkitSynset>();
        int lineNumber = 0;
        foreach (string raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] parts = line.Split((char[])[' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id < 1)
            {
                throw new InvalidDataException($"{path}, line {lineNumber}: expected \"ILSVRC2012_ID WNID [words]\", got \"{Shorten(line)}\"");
            }

            if (!byId.TryAdd(id, new DevkitSynset(id, parts[1], parts.Length > 2 ? parts[2] : parts[1], IsLeaf: true)))
            {
                throw new InvalidDataException($"{path}, line {lineNumber}: ILSVRC2012_ID {id} appears twice");
            }
        }

        return byId.Count > 0 ? byId : throw new InvalidDataException($"{path}: no \"ID WNID\" lines");
    }

    internal static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
