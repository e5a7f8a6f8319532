// A user's program, built outside the solution from the packages alone (scripts/package-test.sh copies it into a
// temporary folder): opens a record set, reads one batch through DataLoader.Create, and says which
// libloader_jpeg.so the process mapped, so the script can check it is the package's.
using Loader.Pipeline;
using Loader.Records;

string directory = args[0];
using (RecordDataset set = RecordDataset.Open(directory))
{
    Console.WriteLine($"records {set.Count}, classes {set.Classes.Count}, shards {set.ShardCount}");
}

using DataLoader loader = DataLoader.Create(new LoaderOptions { DataDirectory = directory, BatchSize = 4, Threads = 1, Seed = 1 });
foreach (HostBatch batch in loader)
{
    using (batch)
    {
        float sum = 0;
        foreach (float value in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(batch.Images))
        {
            sum += Math.Abs(value);
        }

        Console.WriteLine($"batch shape [{string.Join(", ", batch.Shape)}], labels [{string.Join(", ", batch.Labels.ToArray())}], sum |pixels| {sum:F1}");
        if (batch.Count != 4 || sum == 0)
        {
            Console.Error.WriteLine("consumer: the batch is short or all zero");
            return 1;
        }
    }

    break;
}

string? shim = File.ReadLines("/proc/self/maps").Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
    .Where(fields => fields.Length >= 6 && fields[5].EndsWith("/libloader_jpeg.so", StringComparison.Ordinal))
    .Select(fields => fields[5]).FirstOrDefault();
Console.WriteLine($"shim {shim}");
return 0;
