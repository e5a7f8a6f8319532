using System.Text.Json;
using Loader.Records.Index;
using Loader.Tools.MakeRecords.Inputs;

namespace Loader.Tools.MakeRecords.Job;

/// <summary>
/// Writes the <c>--report</c> file as it goes (a <see cref="Utf8JsonWriter"/> on the file): the summary, then one entry
/// per input file in input order (<c>path</c>, <c>status</c>, <c>reason</c>, <c>label</c>, <c>shard</c>, <c>record</c>),
/// then the files that were found but not taken. Memory: 8 bytes per input for where each landed, never the report as
/// one string.
/// </summary>
internal static class RunReportWriter
{
    public static void Write(string path, RunReport report, InputSet inputs, ShardPlan plan, ShardCheckpoint[] results, string name)
    {
        // Where each input landed: its shard and record, or record -1 when skipped.
        int count = inputs.Items.Count;
        int[] shardOf = new int[count];
        int[] recordOf = new int[count];
        var reasons = new Dictionary<int, ItemOutcome>();
        for (int s = 0; s < plan.ShardCount; s++)
        {
            ReadOnlySpan<int> items = plan.Items(s);
            IReadOnlyList<ItemOutcome> notWritten = results[s].NotWritten;
            int next = 0, record = 0;
            for (int k = 0; k < items.Length; k++)
            {
                int item = items[k];
                shardOf[item] = s;
                if (next < notWritten.Count && notWritten[next].Item == k)
                {
                    reasons[item] = notWritten[next++];
                    if (reasons[item].Status == MakeRecordsJob.Skipped)
                    {
                        recordOf[item] = -1;
                        continue;
                    }
                }

                recordOf[item] = record++;
            }
        }

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("input", report.Input);
            json.WriteString("output", report.Output);
            json.WriteString("inputKind", report.InputKind);
            json.WriteNumber("inputFiles", report.InputFiles);
            json.WriteNumber("written", report.Written);
            json.WriteNumber("reencoded", report.Reencoded);
            json.WriteNumber("skipped", report.Skipped);
            if (report.RestartInterval is not null)
            {
                json.WriteString("restartInterval", report.RestartInterval);
                json.WriteNumber("transcoded", report.Transcoded);
            }

            json.WriteNumber("records", report.Records);
            json.WriteNumber("shards", report.Shards);
            json.WriteNumber("shardsReused", report.ShardsReused);
            json.WriteNumber("seconds", report.Seconds);
            json.WriteStartArray("files");
            var shardNames = new string[plan.ShardCount];
            for (int i = 0; i < count; i++)
            {
                ItemOutcome? outcome = reasons.GetValueOrDefault(i);
                int s = shardOf[i];
                json.WriteStartObject();
                json.WriteString("path", inputs.Items.Utf8PathOf(i));
                json.WriteString("status", outcome?.Status ?? MakeRecordsJob.Written);
                if (outcome?.Reason is { } reason)
                {
                    json.WriteString("reason", reason);
                }

                json.WriteNumber("label", inputs.Items.LabelOf(i));
                if (recordOf[i] >= 0)
                {
                    json.WriteString("shard", shardNames[s] ??= ShardNaming.ShardFileName(name, s, plan.ShardCount));
                    json.WriteNumber("record", recordOf[i]);
                }

                json.WriteEndObject();
                if (json.BytesPending > 1 << 16)
                {
                    json.Flush();
                }
            }

            foreach ((string ignored, string why) in inputs.Ignored)
            {
                json.WriteStartObject();
                json.WriteString("path", ignored);
                json.WriteString("status", MakeRecordsJob.Skipped);
                json.WriteString("reason", why);
                json.WriteNumber("label", -1);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        File.AppendAllText(temporary, "\n");
        File.Move(temporary, path, overwrite: true);
    }
}
