using Loader.Trainer.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Loader.Trainer.Distributed.TestHost;

/// <summary>The collective checks: every rank runs the same method; rank 0 prints the verdict.</summary>
internal static class Checks
{
    private static Communicator Start() => Communicator.Create(LaunchEnvironment.Detect(), CPU);

    // Rank r's values for tensor number `salt`: small integers, so sums and halves are exact in every dtype; distinct
    // per tensor, so gradients that overlapped in the flat buffer would show.
    private static Tensor Filled(long count, ScalarType type, int rank, int salt = 0)
    {
        using Tensor index = arange(count, dtype: ScalarType.Float64);
        using Tensor values = (index * 7 + rank * 13 + salt * 31).remainder(101) - 50;
        return values.to_type(type);
    }

    private static Tensor Expected(long count, ScalarType type, int world, bool average, int salt = 0)
    {
        Tensor sum = zeros(count, ScalarType.Float64);
        for (int r = 0; r < world; r++)
        {
            using Tensor part = Filled(count, ScalarType.Float64, r, salt);
            sum.add_(part);
        }
        if (average) sum.div_(world);
        return sum.to_type(type);
    }

    /// <summary>
    /// Plain collectives on awkward sizes and dtypes, then the flat gradient buffer: parameters of awkward sizes in
    /// two dtypes, buckets far smaller than a parameter and not a multiple of any element size, so bucket edges fall
    /// inside parameters. Every result must equal the sum (average) computed here without MPI, exactly. The
    /// reduction must allocate no managed memory.
    /// </summary>
    public static int AllReduce()
    {
        using Communicator comm = Start();
        int world = comm.WorldSize;
        long[] sizes = [1, 3, 1000, 65_537, 1_000_003];
        foreach (ScalarType type in (ScalarType[])[ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32])
            foreach (long size in sizes)
            {
                using Tensor t = Filled(size, type, comm.Rank);
                comm.AllReduceSum(t);
                using Tensor expected = Expected(size, type, world, average: false);
                if (!t.eq(expected).all().item<bool>()) throw new InvalidOperationException($"AllReduceSum {type} x {size} differs from the plain sum.");
            }

        // Host collectives.
        Span<long> longs = [comm.Rank + 1, -comm.Rank];
        comm.AllReduce(longs, ReduceOperation.Sum);
        if (longs[0] != world * (world + 1) / 2) throw new InvalidOperationException($"host sum {longs[0]}");
        Span<double> doubles = [comm.Rank];
        comm.AllReduce(doubles, ReduceOperation.Max);
        if (doubles[0] != world - 1) throw new InvalidOperationException($"host max {doubles[0]}");
        if (comm.AnyRank(comm.Rank == world - 1) != true || comm.AnyRank(false)) throw new InvalidOperationException("AnyRank");

        // The gradient buffer: gradients of float32 and float64 parameters, sizes 1 to 100003, buckets of 4099 bytes.
        long[] paramSizes = [5, 1, 100_003, 7, 4096, 33];
        ScalarType[] types = [ScalarType.Float32, ScalarType.Float64, ScalarType.Float32, ScalarType.Float64, ScalarType.Float32, ScalarType.Float32];
        Parameter[] parameters = [.. paramSizes.Select((s, i) => new Parameter(zeros(s, types[i])))];
        using var buffer = new GradientBuffer(parameters, fusionBytes: 4099, world);
        for (int i = 0; i < parameters.Length; i++)
        {
            using Tensor grad = parameters[i].grad!;
            using Tensor values = Filled(paramSizes[i], types[i], comm.Rank, salt: i + 1);
            grad.copy_(values);
        }
        buffer.AllReduceAverage(comm);
        for (int i = 0; i < parameters.Length; i++)
        {
            using Tensor grad = parameters[i].grad!;
            using Tensor expected = Expected(paramSizes[i], types[i], world, average: true, salt: i + 1);
            if (!grad.eq(expected).all().item<bool>()) throw new InvalidOperationException($"bucketed average of parameter {i} ({types[i]} x {paramSizes[i]}) differs.");
        }
        if (!buffer.IsAttached()) throw new InvalidOperationException("a gradient left the flat buffer.");

        // No managed allocation per reduction: the fewest bytes over five passes (a one-off JIT allocation is not per step).
        long fewest = long.MaxValue;
        for (int pass = 0; pass < 5; pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            buffer.AllReduceAverage(comm);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        if (fewest != 0) throw new InvalidOperationException($"AllReduceAverage allocated {fewest} managed bytes.");
        if (comm.IsRoot) Console.WriteLine($"ok: allreduce over {world} ranks, {buffer.BucketCount} buckets, 0 bytes per reduction");
        foreach (Parameter p in parameters) p.Dispose();
        return 0;
    }

    /// <summary>A model without batch norm (conv, ReLU, linear).</summary>
    private static Sequential NoBatchNormModel(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("conv", nn.Conv2d(3, 6, 3, padding: 1)),
            ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(4)),
            ("flat", nn.Flatten()),
            ("fc", nn.Linear(6 * 16, 5)));
    }

    /// <summary>
    /// One SGD step (momentum, weight decay) on W ranks, each with its 1/W of a batch (the loader's interleaved share:
    /// samples r, r + W, ...), against one step on one process with the whole batch. Rank r starts from other
    /// weights (seed r): the broadcast must make them rank 0's first. Gradients and updated weights must agree.
    /// </summary>
    public static int OneStep()
    {
        using Communicator comm = Start();
        int world = comm.WorldSize;
        using var generator = new Generator(11, CPU);
        using Tensor images = randn([8, 3, 8, 8], generator: generator);
        using Tensor labels = randint(0, 5, [8], generator: generator, dtype: ScalarType.Int64);

        var (distributed, distributedGrads) = Step(NoBatchNormModel(1 + comm.Rank), images, labels, world, comm);
        var (single, singleGrads) = Step(NoBatchNormModel(1), images, labels, 1, null);
        for (int i = 0; i < single.Length; i++)
        {
            double gradError = (distributedGrads[i] - singleGrads[i]).abs().max().item<float>();
            double weightError = (distributed[i] - single[i]).abs().max().item<float>();
            if (gradError > 1e-6 || weightError > 1e-6)
                throw new InvalidOperationException($"tensor {i}: gradient differs by {gradError:E2}, weight by {weightError:E2}");
        }
        if (comm.IsRoot) Console.WriteLine($"ok: one step on {world} ranks equals one step on one process ({single.Length} tensors)");
        return 0;
    }

    private static (Tensor[] Weights, Tensor[] Grads) Step(Sequential model, Tensor images, Tensor labels, int world, Communicator? comm)
    {
        Parameter[] parameters = [.. model.parameters()];
        using var optimizer = optim.SGD(parameters, 0.1, momentum: 0.9, weight_decay: 0.01);
        DataParallel? parallel = comm is null ? null : new DataParallel(comm, fusionBytes: 1000);
        parallel?.Attach(model, parameters);
        int rank = comm?.Rank ?? 0;
        using Tensor mine = arange(rank, images.shape[0], world, dtype: ScalarType.Int64);
        using Tensor x = images.index_select(0, mine);
        using Tensor y = labels.index_select(0, mine);
        optimizer.zero_grad();
        using Tensor loss = nn.functional.cross_entropy(model.forward(x), y);
        loss.backward();
        parallel?.ReduceGradients();
        Tensor[] grads = [.. parameters.Select(p => p.grad!.clone())];
        optimizer.step();
        if (parallel is { Gradients: { } buffer } && !buffer.IsAttached()) throw new InvalidOperationException("gradients left the flat buffer.");
        return ([.. parameters.Select(p => p.detach().clone())], grads);
    }

    /// <summary>ResNets with other initial weights on every rank differ (the replica check says so) until rank 0's
    /// weights and BN buffers are broadcast; then they are identical, buffers included.</summary>
    public static int Broadcast()
    {
        using Communicator comm = Start();
        manual_seed(100 + comm.Rank);
        using var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), 4);
        using (no_grad())
            foreach ((string _, Tensor buffer) in model.named_buffers())
                if (buffer.is_floating_point()) buffer.uniform_(0.5, 1.5);   // running stats that differ per rank too
        bool differedBefore = false;
        try
        {
            ReplicaCheck.Run(comm, ReplicaCheck.StateOf(model), "before the broadcast");
        }
        catch (DistributedException)
        {
            differedBefore = true;
        }
        if (!differedBefore) throw new InvalidOperationException("the replica check found no difference between differently initialized ranks.");
        using var parallel = new DataParallel(comm);
        parallel.BroadcastFromRoot(model);
        ReplicaCheck.Run(comm, ReplicaCheck.StateOf(model), "after the broadcast");
        if (comm.IsRoot) Console.WriteLine($"ok: broadcast made {comm.WorldSize} ranks identical ({ReplicaCheck.StateOf(model).Count} tensors)");
        return 0;
    }

    /// <summary>Identical replicas, then the last rank nudges one weight by one ulp: every rank must stop with a
    /// message naming that rank and that tensor.</summary>
    public static int Replica()
    {
        using Communicator comm = Start();
        manual_seed(5);
        using var model = new ResNet(ResNetSpec.Parse("resnet-tiny"), 4);
        using var parallel = new DataParallel(comm);
        parallel.Attach(model, [.. model.parameters()]);
        parallel.CheckReplicas(model, "after attach", includeBuffers: true);
        (string name, Parameter victim) = model.named_parameters().ElementAt(7);
        if (comm.Rank == comm.WorldSize - 1)
            using (no_grad())
            {
                using Tensor first = victim.flatten().narrow(0, 0, 1);
                first.copy_(first.nextafter(first + 1));
            }
        try
        {
            parallel.CheckReplicas(model, "at the end of epoch 1");
        }
        catch (DistributedException e)
        {
            Console.WriteLine($"rank {comm.Rank}: {e.Message} [perturbed: {name}]");
            return 0;
        }
        throw new InvalidOperationException("the replica check did not fire.");
    }

    /// <summary>The last rank kills itself (SIGKILL) while the others are in all-reduces: the job must end with an
    /// error (MPI's launcher notices the death and ends the job), not hang. Rank 0 says "survived" if it does not.</summary>
    public static int KilledRank()
    {
        Communicator comm = Start();
        using Tensor t = ones(1000);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int step = 0; clock.Elapsed < TimeSpan.FromSeconds(60); step++)
        {
            if (step == 20 && comm.Rank == comm.WorldSize - 1)
            {
                Console.Out.Flush();
                System.Diagnostics.Process.GetCurrentProcess().Kill();
            }
            comm.AllReduceSum(t);
            t.fill_(1);
        }
        Console.WriteLine("survived");
        return 0;
    }
}
