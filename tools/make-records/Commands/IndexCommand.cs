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
        var maxPixels = new Option<long>("--max-pixels") { Description = "Refuse a record whose JPEG header claims more pixels", DefaultValueFactory = _ => Loader.Records.Jpeg.JpegHeader.DefaultMaxPixels };
        var command = new Command("index", "Index existing TFRecord files in place: .index, DALI .idx and manifest.json beside them; checks every CRC")
        {
            directory, name, maxPixels,
        };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(directory)!;
            try
            {
                DatasetManifest manifest = ConsoleProgress.Run("index", () => 0, () => 0, _ => RecordIndexer.IndexInPlace(dir, parse.GetValue(name), parse.GetValue(maxPixels)));
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
