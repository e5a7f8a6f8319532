using Loader.Records.Jpeg;
using Loader.Records.Tests;
using Loader.Tools.MakeRecords.Demo;
using Loader.Tools.MakeRecords.Job;

namespace Loader.Tools.MakeRecords.Tests.Demo;

public class DemoDatasetTests
{
    [Fact]
    public void Generate_TinySet_HasTheClassesCountsAndDecodableImageNetLikeJpegs()
    {
        using var dir = new TempDirectory();
        int written = DemoDataset.Generate(new DemoOptions(dir.Path, Classes: 12, TrainPerClass: 3, ValPerClass: 1, Seed: 7));
        Assert.Equal(48, written);
        string[] classes = [.. Directory.GetDirectories(Path.Combine(dir.Path, "train")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        Assert.Equal(12, classes.Length);
        Assert.Equal(12, classes.Distinct().Count());
        foreach (string c in classes)
        {
            Assert.Equal(3, Directory.GetFiles(Path.Combine(dir.Path, "train", c)).Length);
            Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "val", c)));
        }

        foreach (string file in Directory.GetFiles(dir.Path, "*.jpg", SearchOption.AllDirectories))
        {
            byte[] jpeg = File.ReadAllBytes(file);
            Assert.True(JpegHeader.TryParse(jpeg, out JpegInfo info, out string? problem), problem);
            Assert.InRange(info.Width, 200, 500);
            Assert.InRange(info.Height, 200, 500);
            using var bitmap = TestImages.Decode(jpeg);
            Assert.Equal(info.Width, bitmap.Width);
        }

        // And make-records takes it as it is: every image written, none re-encoded or skipped.
        JobResult result = new MakeRecordsJob(new MakeRecordsOptions(Path.Combine(dir.Path, "train"), Path.Combine(dir.Path, "records"))).Run(TestContext.Current.CancellationToken);
        Assert.Equal((36L, 0L, 0L), (result.Report.Written, result.Report.Reencoded, result.Report.Skipped));
        Assert.All(result.Manifest.Classes, c => Assert.Equal(3, c.Count));
    }

    [Fact]
    public void Generate_IsDeterministicFromTheSeed_WhateverTheThreadCount()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        DemoDataset.Generate(new DemoOptions(a.Path, Classes: 3, TrainPerClass: 2, ValPerClass: 1, Seed: 3, Threads: 1));
        DemoDataset.Generate(new DemoOptions(b.Path, Classes: 3, TrainPerClass: 2, ValPerClass: 1, Seed: 3, Threads: 3));
        DemoDataset.Generate(new DemoOptions(c.Path, Classes: 3, TrainPerClass: 2, ValPerClass: 1, Seed: 4, Threads: 1));
        string[] files = [.. Directory.GetFiles(a.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a.Path, f))];
        Assert.Equal(9, files.Length);
        foreach (string file in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, file)), File.ReadAllBytes(Path.Combine(b.Path, file)));
        }

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a.Path, files[0])), File.ReadAllBytes(Path.Combine(c.Path, files[0])));
    }
}
