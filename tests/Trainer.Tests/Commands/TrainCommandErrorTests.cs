using System.Text.RegularExpressions;
using Loader.Trainer.Checkpoints;
using Loader.Trainer.Commands;
using Loader.Trainer.Data;
using Loader.Trainer.Models;
using Loader.Trainer.Recipe;
using Loader.Trainer.Training;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Commands;

/// <summary>`trainer train` end to end (in process, synthetic data, resnet-tiny): each failure is one line in the
/// trainer's error style with its documented exit code.</summary>
public sealed class TrainCommandErrorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-command-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Output => Path.Combine(_directory, "run");

    private TrainArguments Tiny(int epochs = 1) => new()
    {
        Loader = "synthetic",
        Arch = "resnet-tiny",
        Classes = 4,
        ImageSize = 16,
        Batch = 8,
        SyntheticSteps = 3,
        Epochs = epochs,
        Device = "cpu",
        Threads = 1,
        Output = Output,
    };

    /// <summary>Runs the command as Program does; returns the exit code and what went to stderr (tests run one at a time).</summary>
    private static (int Code, string Error) Run(TrainArguments args, bool verbose = false)
    {
        var error = new StringWriter();
        TextWriter stderr = Console.Error;
        Console.SetError(error);
        try
        {
            int code = CommandErrors.Run(() => TrainCommand.Run(args, TestContext.Current.CancellationToken), verbose);
            return (code, error.ToString());
        }
        finally
        {
            Console.SetError(stderr);
        }
    }

    private static string OneLine(string stderr)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("trainer: error: ", lines[0], StringComparison.Ordinal);
        return lines[0]["trainer: error: ".Length..].TrimEnd('\r');
    }

    [Fact]
    public void HugeLearningRate_FreshRun_StopsWithExitCode3AndWritesNoCheckpoint()
    {
        (int code, string error) = Run(Tiny() with { LearningRatePer256 = 1e9 });

        Assert.Equal(ExitCodes.Diverged, code);
        Assert.Matches("^step [1-3] \\(epoch 1\\): the loss is not finite \\(NaN or infinity\\): training diverged \\(try a lower --lr\\)\\. No checkpoint was written before it\\.$",
                       OneLine(error));
        Assert.False(Directory.Exists(Path.Combine(Output, "checkpoint")));
        Assert.False(Directory.Exists(Path.Combine(Output, "checkpoint.writing")));
    }

    [Fact]
    public void HugeLearningRate_AfterAGoodEpoch_KeepsThatCheckpointLoadable()
    {
        Assert.Equal((ExitCodes.Success, ""), Run(Tiny(epochs: 2) with { Epochs = 1 }));
        string checkpoint = Path.Combine(Output, "checkpoint");
        byte[] goodWeights = File.ReadAllBytes(Path.Combine(checkpoint, CheckpointStore.ModelFile));

        // Epoch 2 at a learning rate no network survives (--epochs changes the schedule, hence the override).
        (int code, string error) = Run(Tiny(epochs: 2) with { Resume = Output, ResumeOverride = true, LearningRatePer256 = 1e9 });

        Assert.Equal(ExitCodes.Diverged, code);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("trainer: warning: ", lines[0], StringComparison.Ordinal); // the override's report
        Assert.Matches($"^step [4-6] \\(epoch 2\\): .*The last good checkpoint is {Regex.Escape(checkpoint)} \\(step 3, end of epoch 1\\), left as it was\\.$",
                       OneLine(lines[1]));
        Assert.Equal(goodWeights, File.ReadAllBytes(Path.Combine(checkpoint, CheckpointStore.ModelFile)));
        using ResNet model = new(ResNetSpec.Parse("resnet-tiny"), 4);
        CheckpointStore.LoadModel(checkpoint, model);
        Assert.Equal(3, CheckpointStore.ReadState(checkpoint).GlobalStep);
        // ...and a resume from it at a sane rate finishes the run.
        Assert.Equal(ExitCodes.Success, Run(Tiny(epochs: 2) with { Resume = Output, ResumeOverride = true }).Code);
    }

    [Theory]
    [InlineData("batch", "--batch 4, the checkpoint's 8")]
    [InlineData("image-size", "--image-size 24, the checkpoint's 16")]
    [InlineData("epochs", "--epochs 3, the checkpoint's 1")]
    [InlineData("seed", "--seed 5, the checkpoint's 0")]
    [InlineData("steps", "synthetic data: records 32, the checkpoint's 24")]
    public void Resume_WithAnOptionThatChangesTheRun_IsAUsageErrorUnlessOverridden(string option, string difference)
    {
        Assert.Equal(ExitCodes.Success, Run(Tiny()).Code);
        TrainArguments changed = option switch
        {
            "batch" => Tiny() with { Batch = 4, SyntheticSteps = 6 },
            "image-size" => Tiny() with { ImageSize = 24 },
            "epochs" => Tiny(epochs: 3),
            "seed" => Tiny() with { Seed = 5 },
            _ => Tiny() with { SyntheticSteps = 4 },
        };

        (int code, string error) = Run(changed with { Resume = Output });

        Assert.Equal(ExitCodes.Usage, code);
        string message = OneLine(error);
        Assert.StartsWith($"{Path.Combine(Output, "checkpoint")}: resuming would change the run: ", message, StringComparison.Ordinal);
        Assert.Contains(difference, message, StringComparison.Ordinal);
        Assert.EndsWith("(--resume-override resumes anyway)", message, StringComparison.Ordinal);

        (int overridden, string warning) = Run(changed with { Resume = Output, ResumeOverride = true, Epochs = 3 });
        Assert.Equal(ExitCodes.Success, overridden);
        Assert.Contains(difference, warning, StringComparison.Ordinal);
    }

    /// <summary>A missing native library (what JpegShimResolver reports when libjpeg-turbo's runtime is absent) is a
    /// plain failure naming the library, not an "internal error".</summary>
    [Fact]
    public void MissingNativeLibrary_IsItsOwnMessageWithExitCode1()
    {
        var error = new StringWriter();
        int code = CommandErrors.Run(() => throw new DllNotFoundException("libloader_jpeg.so needs libjpeg.so.62, which is not installed"), verbose: false, error);
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("trainer: error: libloader_jpeg.so needs libjpeg.so.62, which is not installed", error.ToString().Trim());
    }

    [Fact]
    public void Resume_SameOptions_IsAccepted()
    {
        Assert.Equal(ExitCodes.Success, Run(Tiny(epochs: 2) with { Epochs = 2 }).Code);
        Assert.Equal((ExitCodes.Success, ""), Run(Tiny(epochs: 2) with { Resume = Output }));
    }

    [Fact]
    public void Resume_CorruptCheckpoint_IsOneLineNamingTheFile()
    {
        Assert.Equal(ExitCodes.Success, Run(Tiny(epochs: 2) with { Epochs = 1 }).Code);
        string model = Path.Combine(Output, "checkpoint", CheckpointStore.ModelFile);
        using (var stream = new FileStream(model, FileMode.Open)) stream.SetLength(1000);

        (int code, string error) = Run(Tiny() with { Resume = Output });

        Assert.Equal(ExitCodes.Failed, code);
        Assert.StartsWith($"{model}: truncated: the file ends at byte 1000, inside tensor '", OneLine(error), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--batch 0: expected at least 1")]
    [InlineData("--lr -1: expected a positive number")]
    [InlineData("--min-crop-scale 0: expected more than 0 and at most 1")]
    public void BadOptionValue_IsAUsageError(string expected)
    {
        TrainArguments args = expected.Split(' ')[0] switch
        {
            "--batch" => Tiny() with { Batch = 0 },
            "--lr" => Tiny() with { LearningRatePer256 = -1 },
            _ => Tiny() with { MinCropScale = 0 },
        };
        (int code, string error) = Run(args);
        Assert.Equal((ExitCodes.Usage, expected), (code, OneLine(error)));
    }

    /// <summary>A label past the class count: libtorch's "Target 7 is out of bounds." with a C++ backtrace becomes one
    /// line naming the step; the backtrace and stack only with --verbose.</summary>
    [Fact]
    public void LibTorchError_InAStep_IsOneLineWithTheStep()
    {
        using TrainingSession session = LabelOutOfRangeSession();
        var error = new StringWriter();

        int code = CommandErrors.Run(() => { session.RunEpoch(TestContext.Current.CancellationToken); return 0; }, verbose: false, error);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("epoch 1, step 1: libtorch: Target 7 is out of bounds.", OneLine(error.ToString()));
    }

    [Fact]
    public void LibTorchError_Verbose_AddsTheStackTrace()
    {
        using TrainingSession session = LabelOutOfRangeSession();
        var error = new StringWriter();

        CommandErrors.Run(() => { session.RunEpoch(TestContext.Current.CancellationToken); return 0; }, verbose: true, error);

        string[] lines = error.ToString().Split('\n');
        Assert.Equal("trainer: error: epoch 1, step 1: libtorch: Target 7 is out of bounds.", lines[0].TrimEnd('\r'));
        Assert.Contains(lines, l => l.Contains("at Loader.Trainer.Training.TrainingSession", StringComparison.Ordinal));
    }

    [Fact]
    public void LibTorchError_OutsideAStep_KeepsOnlyTheFirstLine()
    {
        var error = new StringWriter();
        int code = CommandErrors.Run(() =>
        {
            // (Not matmul: TorchSharp 0.107's THSTensor_matmul lets the C++ exception escape, and the process aborts.)
            using Tensor logits = ones(2, 4), labels = tensor(new long[] { 0, 9 });
            using Tensor loss = nn.functional.cross_entropy(logits, labels);
            return 0;
        }, verbose: false, error);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("libtorch: Target 9 is out of bounds.", OneLine(error.ToString()));
    }

    [Fact]
    public void UnexpectedException_IsOneLineWithItsType()
    {
        var error = new StringWriter();
        int code = CommandErrors.Run(() => throw new InvalidOperationException("line one\nline two"), verbose: false, error);
        Assert.Equal((ExitCodes.Failed, "internal error (InvalidOperationException): line one (--verbose shows the stack trace)"),
                     (code, OneLine(error.ToString())));
    }

    private static TrainingSession LabelOutOfRangeSession()
    {
        using var generator = new Generator(1, CPU);
        Tensor images = randn([16, 3, 16, 16], generator: generator);
        Tensor labels = full([16], 7L, ScalarType.Int64); // 4 classes: 7 is out of range
        var source = new TensorBatchSource(images, labels, 4, 8, shuffle: false, seed: 1);
        return new TrainingSession(new ResNet(ResNetSpec.Parse("resnet-tiny"), 4), source, null, TrainingRecipe.Create(1, 8),
                                   new SessionOptions(), CPU);
    }
}
