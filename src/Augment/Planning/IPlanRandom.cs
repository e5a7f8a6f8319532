namespace Loader.Augment.Planning;

/// <summary>
/// The draws torchvision's transforms make, one method per kind: <c>torch.empty(1).uniform_(low, high)</c> (float32),
/// <c>torch.randint(0, high, (1,))</c> and <c>torch.rand(1)</c>. Production uses <see cref="CounterRandom"/>; tests feed
/// recorded torchvision draws to check the algorithm step by step.
/// </summary>
internal interface IPlanRandom
{
    float Uniform(float low, float high);

    /// <summary>A uniform integer in [0, exclusiveHigh).</summary>
    int RandInt(int exclusiveHigh);
}
