using System.Text;
using Loader.Trainer.Checkpoints;
using Loader.Trainer.Models;
using Loader.Trainer.Recipe;
using Loader.Trainer.Tests.Training;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Checkpoints;

/// <summary>Every way a checkpoint can be unreadable gives one line naming the file and what is wrong with it.</summary>
public sealed class CheckpointCorruptionTests : IDisposable, IClassFixture<CheckpointCorruptionTests.GoodCheckpoint>
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-corrupt-").FullName;
    private readonly string _checkpoint;

    public CheckpointCorruptionTests(GoodCheckpoint good)
    {
        _checkpoint = Path.Combine(_directory, "checkpoint");
        Directory.CreateDirectory(_checkpoint);
        foreach (string file in Directory.GetFiles(good.Directory)) File.Copy(file, Path.Combine(_checkpoint, Path.GetFileName(file)));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>One good checkpoint (one step trained, so optimizer.bin holds momentum buffers), made once for the
    /// class; each test damages a copy.</summary>
    public sealed class GoodCheckpoint : IDisposable
    {
        private readonly string _root = System.IO.Directory.CreateTempSubdirectory("trainer-good-checkpoint-").FullName;

        public GoodCheckpoint()
        {
            Directory = Path.Combine(_root, "checkpoint");
            using TrainingSession session = NewSession("resnet-tiny", TinyTask.Classes);
            using var stop = new CancellationTokenSource();
            session.StepCompleted = _ => stop.Cancel();
            session.RunEpoch(stop.Token);
            session.SaveCheckpoint(Directory, TinyTask.Size, zeroInitResidual: false);
        }

        public string Directory { get; }

        public void Dispose() => System.IO.Directory.Delete(_root, recursive: true);
    }

    private static TrainingSession NewSession(string arch, int classes)
    {
        manual_seed(1);
        var model = new ResNet(ResNetSpec.Parse(arch), classes);
        return new TrainingSession(model, TinyTask.Source(64, 7, 32, shuffle: true), null, TrainingRecipe.Create(2, 32),
                                   new SessionOptions(), CPU);
    }

    private string FileOf(string name) => Path.Combine(_checkpoint, name);

    /// <summary>Resumes from the damaged checkpoint; returns the one-line message, which must begin with the file.</summary>
    private string ResumeError(string file)
    {
        using TrainingSession session = NewSession("resnet-tiny", TinyTask.Classes);
        Exception error = Assert.ThrowsAny<Exception>(() => session.Resume(_checkpoint));
        Assert.True(error is InvalidDataException or FileNotFoundException, error.ToString());
        Assert.StartsWith(FileOf(file) + ": ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        return error.Message[(FileOf(file).Length + 2)..];
    }

    [Fact]
    public void Resume_TruncatedModel_SaysWhereItEnds()
    {
        using (var stream = new FileStream(FileOf(CheckpointStore.ModelFile), FileMode.Open)) stream.SetLength(stream.Length / 2);
        Assert.Matches("^truncated: the file ends at byte [0-9]+, inside tensor 'layer[0-9.]+[a-z0-9_.]+'$", ResumeError(CheckpointStore.ModelFile));
    }

    [Fact]
    public void Resume_TruncatedOptimizer_SaysWhereItEnds()
    {
        using (var stream = new FileStream(FileOf(CheckpointStore.OptimizerFile), FileMode.Open)) stream.SetLength(stream.Length - 3);
        Assert.Matches("^truncated: the file ends at byte [0-9]+, inside tensor 'momentum buffer [0-9]+'$", ResumeError(CheckpointStore.OptimizerFile));
    }

    [Fact]
    public void Resume_WrongFileAsModel_SaysItIsNotThisModelsCheckpoint()
    {
        File.Copy(FileOf(CheckpointStore.OptimizerFile), FileOf(CheckpointStore.ModelFile), overwrite: true);
        Assert.Equal("holds 3 tensors; this resnet-tiny with 4 classes has 74 (not a checkpoint of this model?)",
                     ResumeError(CheckpointStore.ModelFile));
    }

    [Fact]
    public void Resume_ModelFileAsOptimizer_SaysItIsNotAnSgdState()
    {
        File.Copy(FileOf(CheckpointStore.ModelFile), FileOf(CheckpointStore.OptimizerFile), overwrite: true);
        // model.bin starts with its tensor count (74) and "conv1.weight": read as the optimizer's name, 74 bytes of it
        // run into the tensor's raw floats.
        Assert.Equal("the optimizer's name is not text (a damaged or foreign file?)", ResumeError(CheckpointStore.OptimizerFile));
    }

    [Fact]
    public void Resume_MissingTensor_NamesIt()
    {
        // A well-formed file of the same model without that tensor.
        using (var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), TinyTask.Classes))
            model.save(FileOf(CheckpointStore.ModelFile), skip: ["fc.bias"]);
        Assert.Equal("lacks tensor 'fc.bias'", ResumeError(CheckpointStore.ModelFile));
    }

    [Fact]
    public void Resume_RenamedTensor_NamesIt()
    {
        byte[] bytes = File.ReadAllBytes(FileOf(CheckpointStore.ModelFile));
        int at = Encoding.Latin1.GetString(bytes).LastIndexOf("fc.bias", StringComparison.Ordinal);
        bytes[at + 5] = (byte)'x';
        File.WriteAllBytes(FileOf(CheckpointStore.ModelFile), bytes);
        Assert.Equal("holds tensor 'fc.bixs', which this resnet-tiny with 4 classes does not have", ResumeError(CheckpointStore.ModelFile));
    }

    [Fact]
    public void LoadModel_OtherClassCount_NamesTheTensorAndBothShapes()
    {
        using var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), 10);
        var error = Assert.Throws<InvalidDataException>(() => CheckpointStore.LoadModel(_checkpoint, model));
        Assert.Equal($"{FileOf(CheckpointStore.ModelFile)}: tensor 'fc.weight' has shape [4, 128]; this resnet-tiny with 10 classes has [10, 128]",
                     error.Message);
    }

    [Fact]
    public void Resume_TrailingBytes_AreAnError()
    {
        File.AppendAllText(FileOf(CheckpointStore.ModelFile), "junk");
        Assert.Equal("4 bytes after the last tensor (a damaged file, or not one of this trainer's checkpoints?)",
                     ResumeError(CheckpointStore.ModelFile));
    }

    [Theory]
    [InlineData("", "not a checkpoint state (")]
    [InlineData("{\"Format\": 1,", "not a checkpoint state (")]
    [InlineData("null", "not a checkpoint state (null)")]
    [InlineData("[1, 2]", "not a checkpoint state (")]
    [InlineData("{\"Format\": 1, \"Classes\": 4}", "not a checkpoint state (")]
    [InlineData("{\"Format\": 2, \"Arch\": \"resnet-tiny\", \"Classes\": 4}", "checkpoint format 2; this trainer reads format 1")]
    [InlineData("{\"Format\": 1, \"Arch\": \"resnet-huge\", \"Classes\": 4}", "Arch: unknown architecture 'resnet-huge'")]
    [InlineData("{\"Format\": 1, \"Arch\": \"resnet-tiny\", \"Classes\": -4}", "Classes: -4, expected at least 1")]
    [InlineData("{\"Format\": 1, \"Arch\": \"resnet-tiny\", \"Classes\": 4, \"Position\": -1}", "Epoch 0, Position -1, GlobalStep 0, EpochSamples 0: expected 0 or more")]
    [InlineData("{\"Format\": 1, \"Arch\": \"resnet-tiny\", \"Classes\": 4, \"History\": null}", "History: null, expected a list")]
    [InlineData("{\"Format\": 1, \"Arch\": \"resnet-tiny\", \"Classes\": 4, \"TorchRngState\": \"%%\"}", "TorchRngState: not base64")]
    [InlineData("{\"Format\": 1, \"Arch\": \"resnet-tiny\", \"Classes\": \"four\"}", "not a checkpoint state (")]
    public void ReadState_BadJson_NamesTheFileAndTheProblem(string json, string problem)
    {
        File.WriteAllText(FileOf(CheckpointStore.StateFile), json);
        var error = Assert.Throws<InvalidDataException>(() => CheckpointStore.ReadState(_checkpoint));
        Assert.StartsWith($"{FileOf(CheckpointStore.StateFile)}: {problem}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(CheckpointStore.ModelFile)]
    [InlineData(CheckpointStore.OptimizerFile)]
    public void Resume_MissingFile_NamesIt(string file)
    {
        File.Delete(FileOf(file));
        Assert.Equal("missing from the checkpoint", ResumeError(file));
    }

    [Fact]
    public void ReadState_NoCheckpointHere_NamesTheStateFile()
    {
        string nowhere = Path.Combine(_directory, "nowhere");
        var error = Assert.Throws<FileNotFoundException>(() => CheckpointStore.ReadState(nowhere));
        Assert.Equal($"{Path.Combine(nowhere, CheckpointStore.StateFile)}: not a checkpoint (no such directory)", error.Message);
    }
}
