using System.Text.Json;

namespace Loader.Tools.Bench;

/// <summary>One run of a peer, as its JSON line reports it.</summary>
internal sealed record PeerResult(string Pipeline, double ImagesPerSecond, long TimedImages, int Workers)
{
    /// <summary>Batches the untimed warm-up consumed (<c>warmup_batches_consumed</c>; 0 where the script does not say).</summary>
    public long WarmupBatches { get; init; }

    /// <summary>
    /// The last line of <paramref name="output"/> that starts with '{' (the script prints its figures last), read
    /// for <c>images_per_s</c>, <c>timed_images</c>, <c>workers</c>, <c>pipeline</c> and <c>warmup_batches_consumed</c>
    /// (the last two are absent from the older script: then <see cref="PeerPipelines.TorchvisionPil"/> and 0). Anything
    /// else is a one-line
    /// <see cref="FormatException"/> that names <paramref name="source"/>.
    /// </summary>
    public static PeerResult Parse(string output, string source)
    {
        string? line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                             .LastOrDefault(l => l.StartsWith('{'));
        if (line is null)
        {
            throw new FormatException($"{source}: printed no JSON line");
        }

        try
        {
            using JsonDocument json = JsonDocument.Parse(line);
            JsonElement root = json.RootElement;
            double imagesPerSecond = root.GetProperty("images_per_s").GetDouble();
            if (!double.IsFinite(imagesPerSecond) || imagesPerSecond <= 0)
            {
                throw new FormatException($"{source}: images_per_s is {imagesPerSecond}, not a positive number");
            }

            string pipeline = root.TryGetProperty("pipeline", out JsonElement p) && p.ValueKind == JsonValueKind.String
                ? p.GetString()!
                : PeerPipelines.TorchvisionPil;
            return new PeerResult(pipeline, imagesPerSecond, root.GetProperty("timed_images").GetInt64(),
                                  root.GetProperty("workers").GetInt32())
            {
                WarmupBatches = root.TryGetProperty("warmup_batches_consumed", out JsonElement w) ? w.GetInt64() : 0,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"{source}: its JSON line is not a peer result ({e.Message})", e);
        }
    }
}
