using Loader.Trainer.Checkpoints;

namespace Loader.Trainer.Tests.Checkpoints;

public sealed class CheckpointCompatibilityTests
{
    private static readonly DataSetIdentity s_data = new()
    {
        Kind = "records", Directory = "/data/a", Records = 1000, Classes = 10, Fingerprint = "f1",
    };

    private static CheckpointState Saved(DataSetIdentity? data) => new()
    {
        Arch = "resnet50", Classes = 10, ImageSize = 224, Epochs = 90, GlobalBatch = 256, Seed = 1, DataSet = data,
    };

    private static ResumedRun Run(DataSetIdentity? data) => new("resnet50", 10, 256, 224, 90, 1, data);

    [Fact]
    public void Differences_SameRun_None() => Assert.Empty(CheckpointCompatibility.Differences(Saved(s_data), Run(s_data)));

    [Fact]
    public void Differences_SameRecordsMoved_None() =>
        Assert.Empty(CheckpointCompatibility.Differences(Saved(s_data), Run(s_data with { Directory = "/elsewhere" })));

    [Fact]
    public void Differences_OtherRecords_NamesBothDirectories() =>
        Assert.Equal(["--data /data/b holds other records (manifest shards differ) than the checkpoint's /data/a"],
                     CheckpointCompatibility.Differences(Saved(s_data), Run(s_data with { Directory = "/data/b", Fingerprint = "f2" })));

    [Fact]
    public void Differences_CountsAndClasses_AreNamed() =>
        Assert.Equal(["--data: records 900, the checkpoint's 1000", "--data: classes 9, the checkpoint's 10"],
                     CheckpointCompatibility.Differences(Saved(s_data), Run(s_data with { Records = 900, Classes = 9 })));

    [Fact]
    public void Differences_NoManifest_ComparesTheDirectory() =>
        Assert.Equal(["--data /data/b, the checkpoint's /data/a"],
                     CheckpointCompatibility.Differences(Saved(s_data with { Fingerprint = null }),
                                                         Run(s_data with { Directory = "/data/b", Fingerprint = null })));

    [Fact]
    public void Differences_OlderCheckpointWithoutData_ComparesTheRest() =>
        Assert.Equal(["--batch 512, the checkpoint's 256"],
                     CheckpointCompatibility.Differences(Saved(null), Run(s_data) with { GlobalBatch = 512 }));

    [Fact]
    public void EnsureResumable_OtherArchitecture_FailsEvenWithTheOverride()
    {
        var error = Assert.Throws<ArgumentException>(() => CheckpointCompatibility.EnsureResumable(
            "ckpt", Saved(s_data), Run(s_data) with { Arch = "resnet18" }, allowOverride: true, TextWriter.Null));
        Assert.Equal("ckpt: cannot resume another model: --arch resnet18, the checkpoint's resnet50", error.Message);
    }
}
