using System.Formats.Tar;
using Loader.Records;

namespace Loader.Tools.MakeRecords.Inputs;

/// <summary>
/// A folder of per-class tar files, as ILSVRC2012_img_train.tar unpacks (<c>n01440764.tar</c>, ...: class = the tar's
/// name): the members are read in place (their data offset and length in the tar, from its 512-byte headers), so the
/// 1.28 million training images need not be extracted. Only regular files are inputs; folders are passed over and
/// other members (links, devices) are listed as not taken.
/// </summary>
internal static class TarFolder
{
    public const string Extension = ".tar";

    /// <summary>True when the folder's files are tar files and nothing else (hidden files aside).</summary>
    public static bool IsTarFolder(IReadOnlyCollection<string> files)
    {
        var visible = files.Where(f => !Path.GetFileName(f).StartsWith('.')).ToList();
        return visible.Count > 0 && visible.All(f => f.EndsWith(Extension, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The classes: the tars' names without <c>.tar</c>, sorted.</summary>
    public static IReadOnlyList<ClassInfo> Classes(IEnumerable<string> files) =>
        [.. Tars(files).Select((f, i) => new ClassInfo(i, Synset(f), Synset(f)))];

    public static InputSet Scan(string root, string[] files, ClassCatalog? catalog)
    {
        IReadOnlyList<ClassInfo> classes = catalog?.Classes ?? Classes(files);
        var items = new InputList();
        var ignored = new List<(string, string)>();
        foreach (string hidden in files.Where(f => Path.GetFileName(f).StartsWith('.')))
        {
            ignored.Add((Path.GetFileName(hidden), "hidden file in a folder of tar files"));
        }

        int index = 0;
        foreach (string tar in Tars(files))
        {
            string tarName = Path.GetFileName(tar);
            int label = catalog?.LabelOf(Synset(tar), tar) ?? index;
            index++;
            try
            {
                using FileStream stream = new(tar, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12);
                using var reader = new TarReader(stream, leaveOpen: true);
                // copyData: false on a seekable stream: the reader seeks past each member's data, reading only headers.
                while (reader.GetNextEntry(copyData: false) is { } entry)
                {
                    string member = tarName + "/" + (entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name);
                    switch (entry.EntryType)
                    {
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                            items.Add(member, label, entry.Length, entry.DataOffset);
                            break;
                        case TarEntryType.Directory:
                            break;
                        default:
                            ignored.Add((member, $"tar member of type {entry.EntryType}: only regular files are inputs"));
                            break;
                    }
                }
            }
            catch (EndOfStreamException)
            {
                // A tar cut short (an interrupted download or copy): the members before the cut are inputs (one cut in
                // its data reads short, and the sanitizer skips it as truncated); the cut itself is one skipped line.
                ignored.Add((tarName, "tar file ends early (truncated): members after the cut are missing"));
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException)
            {
                throw new InvalidDataException($"{tar}: not a readable tar file ({e.Message})");
            }
        }

        return new InputSet(root, InputScanner.KindTarFolder, classes, items, new TarSource(root)) { Ignored = ignored };
    }

    private static IEnumerable<string> Tars(IEnumerable<string> files) =>
        files.Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal);

    private static string Synset(string tar) => Path.GetFileNameWithoutExtension(tar);
}
