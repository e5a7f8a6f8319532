using Loader.Records.Format;
using SkiaSharp;

namespace Loader.Trainer.Tests.Distributed;

/// <summary>
/// Resume on another world size continues the job's global sample sequence: a real training run (TrainingSession
/// over the rank-sharded record loader) stopped on one world size, checkpointed by rank 0 and resumed on another
/// takes, step by step, exactly the samples of an uninterrupted run. One record per class, so labels are sample ids.
/// The stop is asked on rank 0 only, so the collective stop decision is exercised too.
/// </summary>
public sealed class ElasticResumeTests : IDisposable
{
    private const int Samples = 40;
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-elastic-").FullName;

    public ElasticResumeTests() => WriteShard(Path.Combine(_directory, "records"));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void WriteShard(string directory)
    {
        Directory.CreateDirectory(directory);
        using FileStream shard = File.Create(Path.Combine(directory, "data-00000-of-00001.tfrecord"));
        var header = new byte[TfRecordFraming.HeaderSize];
        var footer = new byte[TfRecordFraming.FooterSize];
        for (int i = 0; i < Samples; i++)
        {
            using var bitmap = new SKBitmap(32, 32);
            bitmap.Erase(new SKColor((byte)(i * 6), (byte)(255 - i * 6), 128));
            using SKData jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            byte[] payload = new ImageExample(jpeg.ToArray(), i, $"n{i:D8}", $"class {i}", $"{i}.jpg", 32, 32, 3).ToPayload();
            TfRecordFraming.WriteHeader(header, payload.Length);
            TfRecordFraming.WriteFooter(footer, Crc32C.Compute(payload));
            shard.Write(header);
            shard.Write(payload);
            shard.Write(footer);
        }
    }

    /// <summary>The per-step global sample sets of a run: "step: ids" lines (batch 8 of 40 samples, 2 epochs = 10 steps).</summary>
    private string[] Sequence(int ranks, string name, params string[] options)
    {
        string file = Path.Combine(_directory, name + ".txt");
        MpiRun.Result result = MpiRun.Run(ranks, MpiRun.TestHost, ["sequence", Path.Combine(_directory, "records"), file, "8", "2", .. options]);
        Assert.True(result.ExitCode == 0 && !result.TimedOut, $"{name} failed ({result.ExitCode}):\n{result.Output}");
        return File.ReadAllLines(file);
    }

    [Theory]
    [InlineData(2, 1, 3)]   // stopped mid-epoch 1 on two ranks, resumed on one
    [InlineData(1, 2, 7)]   // stopped mid-epoch 2 on one rank, resumed on two
    public void Resume_OnAnotherWorldSize_ContinuesTheSameGlobalSampleSequence(int firstRanks, int secondRanks, int stopAfter)
    {
        string[] reference = Sequence(1, "reference");
        Assert.Equal(10, reference.Length);
        string checkpoint = Path.Combine(_directory, "checkpoint");
        string[] first = Sequence(firstRanks, "first", "--stop-after", $"{stopAfter}", "--save", checkpoint);
        string[] second = Sequence(secondRanks, "second", "--resume", checkpoint);

        Assert.Equal(stopAfter, first.Length);
        Assert.Equal(reference, (string[])[.. first, .. second]);
        // Each step's line holds 8 distinct samples, and each epoch every one of the 40 at most once.
        Assert.All(reference, line => Assert.Equal(8, line.Split(' ').Skip(1).Distinct().Count()));
    }
}
