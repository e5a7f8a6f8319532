using System.CommandLine;
using Loader.Trainer.Commands;
using Loader.Trainer.Precision;

// trainer: ResNet training on TorchSharp. Subcommands: train, eval, export (IDX import: make-records import-idx).
bool verboseErrors = false; // --verbose, read once the arguments are parsed
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: finish the step, save a checkpoint, exit. Second: die now.
    if (cancellation.IsCancellationRequested) return;
    e.Cancel = true;
    Console.Error.WriteLine("stopping after this step (Ctrl+C again to abort)...");
    cancellation.Cancel();
};

var data = new Option<string?>("--data") { Description = "Training record directory (make-records output); not needed with --loader synthetic" };
var val = new Option<string?>("--val") { Description = "Validation record directory, evaluated after every epoch (default: none)" };
var arch = new Option<string>("--arch") { Description = "resnet18|resnet34|resnet50|resnet101|resnet152|resnet-tiny|resnet18-small", DefaultValueFactory = _ => "resnet50" };
var classes = new Option<int?>("--classes") { Description = "Number of classes (default: from the data; 1000 for synthetic)" };
var epochs = new Option<int>("--epochs") { Description = "Epochs (90: NVIDIA's default recipe; 250: the MixUp recipe)", DefaultValueFactory = _ => 90 };
var batch = new Option<int>("--batch") { Description = "Global batch size (split evenly over the ranks of a distributed run)", DefaultValueFactory = _ => 256 };
var imageSize = new Option<int>("--image-size") { Description = "Training crop size in pixels", DefaultValueFactory = _ => 224 };
var loader = new Option<string>("--loader") { Description = "cpu (records + CPU decode), gpu (records + nvJPEG/CUDA; needs a GPU, implies --device cuda), synthetic (compute ceiling)", DefaultValueFactory = _ => "cpu" };
loader.AcceptOnlyFromAmong("cpu", "gpu", "synthetic");
var amp = new Option<string>("--amp") { Description = "fp16 (autocast + dynamic loss scaling), bf16 (autocast), off (fp32)", DefaultValueFactory = _ => "off" };
amp.AcceptOnlyFromAmong("fp16", "bf16", "off");
var metrics = new Option<string?>("--metrics") { Description = "JSON lines file, one line per epoch (default OUTPUT/metrics.jsonl)" };
var output = new Option<string>("--output") { Description = "Run directory: checkpoint/, tensorboard/, plots/", DefaultValueFactory = _ => "runs/train" };
var resume = new Option<string?>("--resume") { Description = "Continue from a checkpoint directory (or a run directory)" };
var initFrom = new Option<string?>("--init-from") { Description = "Initial weights: a PyTorch state_dict file (torch.save of model.state_dict())" };
var lr = new Option<double?>("--lr") { Description = "Learning rate per 256 images (default 0.256; scaled linearly with the batch)" };
var warmup = new Option<double?>("--warmup-epochs") { Description = "Linear warmup epochs (default 5 for batch >= 512, else 0)" };
var mixup = new Option<double?>("--mixup") { Description = "MixUp alpha (default 0.2 with --epochs 250, else off)" };
var smoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing of the cross-entropy loss (NVIDIA's recipe: 0.1)", DefaultValueFactory = _ => 0.1 };
var weightDecay = new Option<double?>("--weight-decay") { Description = "SGD weight decay, on conv and linear weights only, not on BN or biases (default 1/32768 = 3.05e-5)" };
var momentum = new Option<double?>("--momentum") { Description = "SGD momentum (default 0.875)" };
var zeroInit = new Option<bool>("--zero-init-residual") { Description = "Start each residual block's last BN gamma at zero (default: off)" };
var seed = new Option<ulong>("--seed") { Description = "Seed of the weights' initialization, the data order and the augmentations (same seed, same run)", DefaultValueFactory = _ => 0UL };
var threads = new Option<int>("--threads") { Description = "Loader decode threads (default: the machine's cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
var torchThreads = new Option<int?>("--torch-threads") { Description = "libtorch intra-op threads (default: libtorch's choice)" };
var minCropScale = new Option<double>("--min-crop-scale") { Description = "Random-resized-crop minimum area fraction", DefaultValueFactory = _ => 0.08 };
var evalResize = new Option<int?>("--eval-resize") { Description = "Validation resize before the center crop (default image-size * 256/224)" };
var syntheticSteps = new Option<int>("--synthetic-steps") { Description = "Steps per epoch with --loader synthetic", DefaultValueFactory = _ => 50 };
var device = new Option<string>("--device") { Description = "auto (CUDA when a GPU is usable, else the CPU), cpu, cuda (a distributed run picks the GPU by local rank)", DefaultValueFactory = _ => "auto" };
var lossScale = new Option<double>("--loss-scale") { Description = "fp16: initial loss scale", DefaultValueFactory = _ => 65536 };
var growthInterval = new Option<int>("--loss-scale-growth-interval") { Description = "fp16: good steps before the scale doubles", DefaultValueFactory = _ => 2000 };
var backoff = new Option<double>("--loss-scale-backoff") { Description = "fp16: factor the loss scale is multiplied by after a step with non-finite gradients (the step is skipped)", DefaultValueFactory = _ => 0.5 };
var growth = new Option<double>("--loss-scale-growth") { Description = "fp16: factor the loss scale grows by after --loss-scale-growth-interval good steps", DefaultValueFactory = _ => 2.0 };
var channelsLast = new Option<bool>("--channels-last") { Description = "Convolution weights and inputs in channels-last (NHWC) memory order (default: off, NCHW)" };
var resumeOverride = new Option<bool>("--resume-override") { Description = "Resume although --batch, --image-size, --epochs, --seed or the data differ from the checkpoint's (default: refused, exit 2)" };
var fusion = new Option<int>("--fusion-mb") { Description = "Distributed runs: gradient all-reduce bucket size in MiB (Horovod's fusion threshold)", DefaultValueFactory = _ => 64 };

var train = new Command("train", "Train a ResNet with NVIDIA's ResNet-50 v1.5 recipe. " + ExitCodes.Summary)
{
    data, val, arch, classes, epochs, batch, imageSize, loader, amp, metrics, output, resume, initFrom, lr, warmup, mixup,
    smoothing, weightDecay, momentum, zeroInit, seed, threads, torchThreads, minCropScale, evalResize, syntheticSteps,
    device, lossScale, growthInterval, backoff, growth, channelsLast, resumeOverride, fusion,
};
train.SetAction(parse => Guard(() => TrainCommand.Run(new TrainArguments
{
    Data = parse.GetValue(data),
    Val = parse.GetValue(val),
    Arch = parse.GetValue(arch)!,
    Classes = parse.GetValue(classes),
    Epochs = parse.GetValue(epochs),
    Batch = parse.GetValue(batch),
    ImageSize = parse.GetValue(imageSize),
    Loader = parse.GetValue(loader)!,
    Amp = AmpModes.Parse(parse.GetValue(amp)!),
    Metrics = parse.GetValue(metrics),
    Output = parse.GetValue(output)!,
    Resume = parse.GetValue(resume),
    InitFrom = parse.GetValue(initFrom),
    LearningRatePer256 = parse.GetValue(lr),
    WarmupEpochs = parse.GetValue(warmup),
    MixUp = parse.GetValue(mixup),
    LabelSmoothing = parse.GetValue(smoothing),
    WeightDecay = parse.GetValue(weightDecay),
    Momentum = parse.GetValue(momentum),
    ZeroInitResidual = parse.GetValue(zeroInit),
    Seed = parse.GetValue(seed),
    Threads = parse.GetValue(threads),
    TorchThreads = parse.GetValue(torchThreads),
    MinCropScale = parse.GetValue(minCropScale),
    EvalResize = parse.GetValue(evalResize),
    SyntheticSteps = parse.GetValue(syntheticSteps),
    Device = parse.GetValue(device)!,
    LossScaler = new LossScalerOptions
    {
        InitialScale = parse.GetValue(lossScale),
        GrowthInterval = parse.GetValue(growthInterval),
        BackoffFactor = parse.GetValue(backoff),
        GrowthFactor = parse.GetValue(growth),
    },
    ChannelsLast = parse.GetValue(channelsLast),
    ResumeOverride = parse.GetValue(resumeOverride),
    FusionMegabytes = parse.GetValue(fusion),
}, cancellation.Token)));

var checkpoint = new Option<string?>("--checkpoint") { Description = "A checkpoint directory (or a run directory)" };
var exportClasses = new Option<int?>("--classes") { Description = "Classes of a fresh model or an --init-from file (default 1000)" };
var exportArch = new Option<string?>("--arch") { Description = "Architecture (default: the checkpoint's, else resnet50)" };
var exportInit = new Option<string?>("--init-from") { Description = "A PyTorch state_dict file to load first" };
var outFile = new Option<string>("--out") { Description = "Output .pt file (PyTorch state_dict)", Required = true };
var export = new Command("export", "Write a model's state_dict in PyTorch's format (torchvision names). " + ExitCodes.Summary)
{
    exportArch, exportClasses, checkpoint, exportInit, outFile,
};
export.SetAction(parse => Guard(() => ExportCommand.Run(parse.GetValue(exportArch), parse.GetValue(exportClasses),
    parse.GetValue(checkpoint), parse.GetValue(exportInit), parse.GetValue(outFile)!)));

var evalVal = new Option<string>("--val") { Description = "Validation record directory", Required = true };
var evalBatch = new Option<int>("--batch") { Description = "Evaluation batch size", DefaultValueFactory = _ => 256 };
var evalImageSize = new Option<int?>("--image-size") { Description = "Crop size (default: the checkpoint's, else 224)" };
var evalAmp = new Option<string>("--amp") { Description = "fp16 or bf16 autocast, off (fp32)", DefaultValueFactory = _ => "off" };
evalAmp.AcceptOnlyFromAmong("fp16", "bf16", "off");
var evaluate = new Command("eval", "Top-1/top-5 accuracy of a checkpoint or a PyTorch state_dict on validation records. " + ExitCodes.Summary)
{
    exportArch, exportClasses, checkpoint, exportInit, evalVal, evalBatch, evalImageSize, evalResize, threads, evalAmp, device,
};
evaluate.SetAction(parse => Guard(() => EvalCommand.Run(parse.GetValue(exportArch), parse.GetValue(exportClasses),
    parse.GetValue(checkpoint), parse.GetValue(exportInit), parse.GetValue(evalVal)!, parse.GetValue(evalBatch),
    parse.GetValue(evalImageSize), parse.GetValue(evalResize), parse.GetValue(threads),
    AmpModes.Parse(parse.GetValue(evalAmp)!), parse.GetValue(device)!)));

var verbose = new Option<bool>("--verbose") { Description = "On an error, print the stack trace too", Recursive = true };
var root = new RootCommand("trainer: ResNet-50 v1.5 (and smaller ResNets) on TorchSharp with NVIDIA's recipe. " + ExitCodes.Summary)
{
    train, evaluate, export, verbose,
};
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // Parse errors in the one error style too, with the usage exit code (System.CommandLine's own handler returns 1).
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"trainer: error: {error.Message}");
    return ExitCodes.Usage;
}
verboseErrors = parsed.GetValue(verbose);
return parsed.Invoke();

// Every failure ends with one line in the trainer's error style and a documented exit code (Commands/CommandErrors.cs).
int Guard(Func<int> action) => CommandErrors.Run(action, verboseErrors);
