using System.Text.Json;
using System.Text.Json.Serialization;
using Loader.Trainer.Training;

namespace Loader.Trainer.Logging;

/// <summary>The metrics file: one JSON object per finished epoch, appended and flushed as each epoch ends.</summary>
public sealed class MetricsLog
{
    // A NaN or infinite figure is written as the string "NaN" / "Infinity" / "-Infinity" (JSON has no such numbers).
    private static readonly JsonSerializerOptions s_json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly string _path;

    public MetricsLog(string path, bool append)
    {
        _path = path;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory != null) Directory.CreateDirectory(directory);
        if (!append) File.WriteAllText(path, "");
    }

    public void Append(EpochMetrics metrics) =>
        File.AppendAllText(_path, JsonSerializer.Serialize(metrics, s_json) + "\n");
}
