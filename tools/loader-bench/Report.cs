using Spectre.Console;

namespace Loader.Tools.Bench;

/// <summary>Human-readable output of <c>run</c>.</summary>
internal static class Report
{
    public static void Print(BenchResult r)
    {
        var table = new Table().AddColumn("loader-bench").AddColumn(new TableColumn("").RightAligned());
        table.AddRow("mode", $"{r.Mode}, batch {r.BatchSize}, {r.Threads} thread(s), prefetch {r.PrefetchDepth}");
        table.AddRow("data", $"{r.DatasetImages:N0} images, {r.BatchesPerEpoch} batches/epoch");
        table.AddRow("[bold]images/s[/]", $"[bold]{r.ImagesPerSecond:N1}[/]");
        table.AddRow("timed", $"{r.Epochs} epoch(s), {r.TimedImages:N0} images in {r.TimedSeconds:N2} s");
        table.AddRow("read (worker ms/image)", $"{r.ReadMsPerImage:N3}");
        table.AddRow("decode+augment (worker ms/image)", $"{r.DecodeMsPerImage:N3}");
        table.AddRow("workers busy", $"{r.WorkerBusyFraction:P0}");
        table.AddRow("consumer waited", $"{r.ConsumerWaitSeconds:N2} s");
        table.AddRow("opener waited for slots", $"{r.SlotWaitSeconds:N2} s");
        table.AddRow("avg ready batches", $"{r.AverageQueueDepth:N2}");
        table.AddRow("skipped samples", $"{r.SkippedSamples}");
        table.AddRow("slots / RSS max", $"{r.SlotMegabytes:N0} MB / {r.RssMaxMegabytes:N0} MB (+{r.RssOverSlotsMegabytes:N0} MB)");
        table.AddRow("managed bytes allocated / image", $"{r.AllocatedBytesPerImage:N0}");
        AnsiConsole.Write(table);
    }
}
