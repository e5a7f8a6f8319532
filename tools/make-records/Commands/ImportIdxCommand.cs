using System.CommandLine;
using Loader.Tools.MakeRecords.Import;
using Spectre.Console;

namespace Loader.Tools.MakeRecords.Commands;

/// <summary><c>import-idx --images F --labels F --out DIR</c>: an IDX image/label pair (MNIST, Fashion-MNIST) as an
/// ImageFolder tree of JPEGs, which make-records then turns into records.</summary>
internal static class ImportIdxCommand
{
    public static Command Create()
    {
        var images = new Option<string>("--images") { Description = "IDX image file (.gz or plain)", Required = true };
        var labels = new Option<string>("--labels") { Description = "IDX label file (.gz or plain)", Required = true };
        var output = new Option<string>("--out") { Description = "Output ImageFolder directory", Required = true };
        var names = new Option<string?>("--names") { Description = "Class names, for the folder names NN_NAME: 'fashion-mnist' or a comma-separated list. Default: folders NN_class" };
        var command = new Command("import-idx", "Convert an IDX image/label pair (MNIST, Fashion-MNIST) to an ImageFolder tree of JPEGs. Exit codes: 0 done, 2 not done")
        {
            images, labels, output, names,
        };
        command.SetAction(parse =>
        {
            string? given = parse.GetValue(names);
            IReadOnlyList<string>? classNames = given is null ? null
                : given == "fashion-mnist" ? IdxImporter.FashionMnistClasses : given.Split(',');
            try
            {
                int count = IdxImporter.Import(parse.GetValue(images)!, parse.GetValue(labels)!, parse.GetValue(output)!, classNames);
                AnsiConsole.MarkupLineInterpolated($"wrote {count} JPEGs under {parse.GetValue(output)}");
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                ErrorOutput.Print(e);
                return 2;
            }
        });
        return command;
    }
}
