namespace Loader.Trainer.Tests.Distributed;

/// <summary>The collectives on two real MPI ranks (each check runs in trainer-dist-testhost on every rank).</summary>
public sealed class CollectiveTests
{
    private static MpiRun.Result RunHost(string mode)
    {
        MpiRun.Result result = MpiRun.Run(2, MpiRun.TestHost, mode);
        Assert.False(result.TimedOut, $"{mode} hung:\n{result.Output}");
        Assert.True(result.ExitCode == 0, $"{mode} failed ({result.ExitCode}):\n{result.Output}");
        return result;
    }

    /// <summary>Sizes 1 to 1,000,003 in float32/float64/int64/int32, and the flat gradient buffer with 4099-byte buckets
    /// cutting through parameters of two dtypes: exactly the plain sum (average); no managed allocation per reduction.</summary>
    [Fact]
    public void BucketedAllReduce_AwkwardSizesAndDtypes_EqualsPlainSum()
    {
        Assert.Contains("ok: allreduce over 2 ranks", RunHost("allreduce").Output);
    }

    [Fact]
    public void OneStep_TwoRanksWithHalfTheBatch_EqualsOneProcessWithTheWholeBatch()
    {
        Assert.Contains("ok: one step on 2 ranks equals one step on one process", RunHost("step").Output);
    }

    [Fact]
    public void Broadcast_DifferentlyInitializedRanks_BecomeIdentical()
    {
        Assert.Contains("ok: broadcast made 2 ranks identical", RunHost("broadcast").Output);
    }

    [Fact]
    public void ReplicaCheck_PerturbedRank_StopsEveryRankNamingRankAndTensor()
    {
        string output = RunHost("replica").Output;
        string[] lines = [.. output.Split('\n').Where(l => l.Contains("replica check", StringComparison.Ordinal))];
        Assert.Equal(2, lines.Length);
        foreach (string line in lines)
        {
            string perturbed = line[(line.IndexOf("[perturbed: ", StringComparison.Ordinal) + 12)..].TrimEnd(']', '\r');
            Assert.Contains($"rank 1's {perturbed} differs from rank 0's", line);
        }
    }

    /// <summary>Only rank 1's loss is NaN, at the last step before a read-back: both ranks stop there, naming the same
    /// step and rank (a rank that decided alone would leave the other waiting in the next all-reduce).</summary>
    [Fact]
    public void NonFiniteLossOnOneRank_StopsEveryRankAtTheSameStep()
    {
        // From "rank": mpirun may put a terminal escape sequence before a rank's first line.
        string[] lines = [.. RunHost("diverge").Output.Split('\n').Where(l => l.Contains(" stopped: ", StringComparison.Ordinal))
                                 .Select(l => l[l.IndexOf("rank ", StringComparison.Ordinal)..].TrimEnd('\r')).Order(StringComparer.Ordinal)];
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("rank 0 stopped: step 3 (epoch 1): the loss is not finite (NaN or infinity) on rank 1 of 2", lines[0], StringComparison.Ordinal);
        Assert.Equal(lines[0]["rank 0".Length..], lines[1]["rank 1".Length..]);
    }

    [Fact]
    public void KilledRank_EndsTheJobWithAnError_NotAHang()
    {
        MpiRun.Result result = MpiRun.Run(2, MpiRun.TestHost, "kill");
        Assert.False(result.TimedOut, "the job hung after a rank was killed");
        Assert.NotEqual(0, result.ExitCode);
        Assert.DoesNotContain("survived", result.Output);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(45), $"took {result.Elapsed.TotalSeconds:F0} s");
    }
}
