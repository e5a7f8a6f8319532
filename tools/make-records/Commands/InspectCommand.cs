using System.CommandLine;
using System.Globalization;
using Loader.Augment.Jpeg;
using Loader.Records;
using Loader.Records.Format;
using Loader.Records.Jpeg;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary><c>inspect DIR [--record N]</c>: the manifest, class counts, and one record's fields.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "Record directory, or a folder of TFRecord files" };
        var record = new Option<long>("--record") { Description = "Global sample id (0-based, across all shards in order) of the record whose fields are shown", DefaultValueFactory = _ => 0 };
        var command = new Command("inspect", """
            Print the manifest (or what the TFRecord files say without one), the records per class (first 40 classes) and one record's fields and JPEG header. The set is opened as the loader opens it: one that the loader refuses is refused here.
            Exit codes: 0 shown, 2 the set could not be opened or --record is out of range.
            """) { directory, record };
        command.SetAction(parse =>
        {
            try
            {
                using RecordDataset dataset = RecordDataset.Open(parse.GetValue(directory)!);
                Show(dataset, parse.GetValue(record));
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
            {
                ErrorOutput.Print(e);
                return 2;
            }
        });
        return command;
    }

    private static void Show(RecordDataset dataset, long sampleId)
    {
        var summary = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        summary.ShowHeaders = false;
        summary.AddRow("directory", Markup.Escape(dataset.Directory));
        summary.AddRow("name", Markup.Escape(dataset.Manifest?.Name ?? "(plain TFRecord files, no manifest)"));
        summary.AddRow("format version", dataset.Manifest?.FormatVersion.ToString(CultureInfo.InvariantCulture) ?? "-");
        summary.AddRow("records", dataset.Count.ToString("N0", CultureInfo.InvariantCulture));
        summary.AddRow("shards", dataset.ShardCount.ToString(CultureInfo.InvariantCulture));
        summary.AddRow("classes", dataset.Classes.Count.ToString(CultureInfo.InvariantCulture));
        if (dataset.Manifest?.Source is { } source)
        {
            summary.AddRow("made from", Markup.Escape($"{source.Input} ({source.InputKind}), seed {source.Seed}"));
            summary.AddRow("inputs", $"{source.InputFiles:N0}: {source.Written:N0} written, {source.Reencoded:N0} re-encoded, {source.Skipped:N0} skipped");
            summary.AddRow("restart intervals", source.RestartInterval is { } mode
                ? $"{Markup.Escape(mode)} ({source.Transcoded:N0} transcoded, re-encoded ones too)"
                : "off (JPEGs stored as given)");
        }

        AnsiConsole.Write(summary);

        var counts = new long[dataset.Classes.Count];
        for (long i = 0; i < dataset.Count; i++)
        {
            int label = dataset.GetEntry(i).Label;
            if ((uint)label < (uint)counts.Length)
            {
                counts[label]++;
            }
        }

        var classes = new Table().Border(TableBorder.Rounded).AddColumn("label").AddColumn("synset").AddColumn("name")
                                 .AddColumn(new TableColumn("records").RightAligned());
        const int Shown = 40;
        foreach (ClassInfo c in dataset.Classes.Take(Shown))
        {
            classes.AddRow(c.Index.ToString(CultureInfo.InvariantCulture), Markup.Escape(c.Synset), Markup.Escape(c.Name),
                           counts[c.Index].ToString("N0", CultureInfo.InvariantCulture));
        }

        if (dataset.Classes.Count > Shown)
        {
            classes.AddRow("...", $"{dataset.Classes.Count - Shown} more", "", "");
        }

        AnsiConsole.Write(classes);
        if (dataset.Count == 0)
        {
            return;
        }

        RecordEntry entry = dataset.GetEntry(sampleId);
        byte[] buffer = [];
        EncodedImage image = dataset.ReadImage(sampleId, ref buffer);
        ImageExample example = ImageExample.Parse(buffer.AsSpan(TfRecordFraming.HeaderSize, entry.Length));
        var fields = new Table().Border(TableBorder.Rounded).AddColumn("field").AddColumn("value");
        fields.Title = new TableTitle($"record {sampleId}: {Markup.Escape(Path.GetFileName(dataset.GetShardPath(entry.Shard)))} #{entry.RecordInShard}");
        fields.AddRow("offset / payload bytes / crc32c", $"{entry.Offset} / {entry.Length} / 0x{entry.Crc:x8}");
        fields.AddRow("image/class/label", $"{example.Label + 1} (0-based: {image.Label})");
        fields.AddRow("image/class/synset", Markup.Escape(example.Synset));
        fields.AddRow("image/class/text", Markup.Escape(example.ClassText));
        fields.AddRow("image/filename", Markup.Escape(example.FileName));
        fields.AddRow("image/width x image/height", $"{example.Width} x {example.Height}");
        fields.AddRow("image/channels", example.Channels.ToString(CultureInfo.InvariantCulture));
        fields.AddRow("image/format", Markup.Escape(example.ImageFormat));
        string jpeg = JpegHeader.TryParse(buffer.AsSpan(image.Offset, image.Length), out JpegInfo info, out string? problem)
            ? $"{info.Width}x{info.Height}, {info.Components} component(s), {(info.Progressive ? "progressive" : "baseline")}, sampling 0x{info.LumaSampling:x2}"
            : problem ?? "not a JPEG";
        fields.AddRow("image/encoded", $"{image.Length:N0} bytes: {Markup.Escape(jpeg)}");
        fields.AddRow("restart interval", JpegFrame.TryRead(buffer.AsSpan(image.Offset, image.Length), out JpegFrame frame) && frame.RestartInterval > 0
            ? $"{frame.RestartInterval} MCUs ({frame.McuColumns} per row){(frame.Spliceable ? "" : ", not one baseline scan")}"
            : "none");
        AnsiConsole.Write(fields);
    }
}
