using System.CommandLine;
using Loader.Records.Index;
using Loader.Records.Writing;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary><c>index DIR</c>: adds our index, DALI's .idx and a manifest beside existing TFRecord files (checking
/// every CRC on the way), without rewriting them.</summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "Folder of TFRecord files (*.tfrecord, *.tfrecords, NAME-00000-of-00010)" };
        var name = new Option<string?>("--name") { Description = "Data set name in the manifest (default: the folder's name)" };
        var maxPixels = new Option<long>("--max-pixels")
        {
            Description = "Stop with an error at a record whose JPEG header claims more pixels (width x height): the files are not rewritten, so it cannot be skipped",
            DefaultValueFactory = _ => Loader.Records.Jpeg.JpegHeader.DefaultMaxPixels,
        };
        var threads = new Option<int>("--threads", "-j") { Description = "Shards scanned at once, at least 1 (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("index", """
            Index existing TFRecord files in place, without rewriting them: .index and DALI's .idx beside each shard, manifest.json (classes, counts, each shard's size and SHA-256) written last. Every record's CRCs are checked and each shard is read once (the SHA-256 comes from the same reads), several shards at once. An old manifest is deleted first; an incomplete numbered set gets none.
            Exit codes: 0 indexed, 1 a record is corrupt or the set is refused (incomplete, labels out of range, over --max-pixels), 2 it could not run (no such folder, no TFRecord files, unreadable files).
            """)
        {
            directory, name, maxPixels, threads,
        };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(directory)!;
            if (parse.GetValue(threads) < 1)
            {
                ErrorOutput.Line("--threads must be at least 1");
                return 2;
            }

            try
            {
                var indexer = new RecordIndexer(parse.GetValue(threads));
                DatasetManifest manifest = ConsoleProgress.Run("index", () => indexer.TotalBytes, () => indexer.BytesDone,
                                                               _ => indexer.Run(dir, parse.GetValue(name), parse.GetValue(maxPixels)));
                AnsiConsole.MarkupLineInterpolated(
                    $"indexed {manifest.RecordCount:N0} records in {manifest.Shards.Count} shard(s), {manifest.Classes.Count} classes (stored labels {manifest.LabelBase}-based): {Path.Combine(dir, ShardNaming.ManifestFileName)}");
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                ErrorOutput.Print(e);
                return e is Loader.Records.RecordCorruptException or Loader.Records.RecordFormatException ? 1 : 2;
            }
        });
        return command;
    }
}
