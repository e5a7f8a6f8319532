using System.Diagnostics;
using Loader.Tools.Fuzz;

namespace Loader.Records.Tests.Fuzzing;

/// <summary>
/// CI's share of the fuzzing: every committed input (seeds and past findings) and a short seeded mutation pass run
/// through the harness entry points AFL runs (tools/fuzz). A harness throws for anything but the parser's
/// documented bad-input outcome, a broken invariant, or an allocation far beyond the input; these tests add a time
/// limit per input (a hang).
/// </summary>
public class FuzzHarnessTests
{
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(2);

    public static TheoryData<string, string> CorpusInputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string target in FuzzTargets.All.Keys)
        {
            foreach (string file in FuzzCorpus.Files(target))
            {
                data.Add(target, Path.GetFileName(file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusInputs))]
    public void CorpusInput_PassesItsHarness(string target, string file)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(FuzzCorpus.Folder, target, file));
        var clock = Stopwatch.StartNew();
        FuzzTargets.All[target](input);
        Assert.True(clock.Elapsed < PerInput, $"{target}/{file} took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void Corpus_HasSeedsFromRealRecordsForEveryTarget()
    {
        foreach (string target in FuzzTargets.All.Keys)
        {
            Assert.True(FuzzCorpus.Files(target).Count(f => !Path.GetFileName(f).StartsWith("finding-", StringComparison.Ordinal)) >= 2,
                        $"fewer than 2 seeds for {target}");
        }
    }

    [Theory]
    [InlineData("framing", 400)]
    [InlineData("example", 4000)]
    [InlineData("index", 4000)]
    [InlineData("manifest", 4000)]
    [InlineData("jpeg", 4000)]
    [InlineData("sample", 2000)]
    public void MutatedSeeds_PassTheirHarness(string target, int count)
    {
        byte[][] seeds = [.. FuzzCorpus.Files(target).Select(File.ReadAllBytes)];
        var mutator = new SeedMutator(seeds, seed: 13);
        Action<byte[]> harness = FuzzTargets.All[target];
        for (int i = 0; i < count; i++)
        {
            byte[] input = mutator.Next();
            var clock = Stopwatch.StartNew();
            try
            {
                harness(input);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{target}: mutation {i} ({Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 64)))}...) failed: {e}");
            }

            Assert.True(clock.Elapsed < PerInput, $"{target}: mutation {i} took {clock.Elapsed.TotalMilliseconds:F0} ms");
        }
    }

    [Fact]
    public void SampleSeeds_AllDecode_TheTargetReachesTheDecoder()
    {
        // A target that returned early for every input would fuzz nothing: the seeds are real records' JPEGs.
        string[] seeds = [.. FuzzCorpus.Files("sample").Where(f => !Path.GetFileName(f).StartsWith("finding-", StringComparison.Ordinal))];
        Assert.NotEmpty(seeds);
        Assert.All(seeds, file => Assert.True(SampleTarget.Decode(File.ReadAllBytes(file)), $"{Path.GetFileName(file)} did not decode"));
    }

    [Fact]
    public void Harness_RefusesWhatItShould_AFindingIsAnException()
    {
        // The harness is not a catch-all: a broken invariant escapes (here: a parse that allocates past its budget).
        var budget = AllocationBudget.Start(10, perInputByte: 1, fixedBytes: 0);
        GC.KeepAlive(new byte[1 << 20]);
        Assert.Throws<FuzzFindingException>(() => budget.Check("test", 10));
    }
}
