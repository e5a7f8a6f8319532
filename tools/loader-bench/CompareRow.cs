using System.Text.Json.Serialization;

namespace Loader.Tools.Bench;

/// <summary>One peer's figures in one configuration: the median of its runs, the runs, and our speed against it.</summary>
internal sealed record PeerFigures(
    [property: JsonPropertyName("peer")] string Peer,
    [property: JsonPropertyName("images_per_sec")] double ImagesPerSecond,
    [property: JsonPropertyName("runs")] double[] Runs,
    [property: JsonPropertyName("ours_over_this")] double OursOverThis);

/// <summary>
/// One configuration (mode, threads = peer workers) of <c>compare</c>: our median, every peer's, and the ratio
/// against the fastest peer, the figure the README quotes.
/// </summary>
internal sealed record CompareRow(
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("ours_images_per_sec")] double OursImagesPerSecond,
    [property: JsonPropertyName("ours_runs")] double[] OursRuns,
    [property: JsonPropertyName("peers")] IReadOnlyList<PeerFigures> Peers,
    [property: JsonPropertyName("fastest_peer")] string FastestPeer,
    [property: JsonPropertyName("fastest_peer_images_per_sec")] double FastestPeerImagesPerSecond,
    [property: JsonPropertyName("ratio_vs_fastest_peer")] double RatioVsFastestPeer,
    [property: JsonPropertyName("ours_rss_mb_max")] double OursRssMegabytes,
    [property: JsonPropertyName("slot_mb")] double SlotMegabytes)
{
    /// <summary>Untimed epochs before each measurement, ours and the peers' alike (compare --warmup-epochs).</summary>
    [JsonPropertyName("warmup_epochs")]
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Timed epochs of each measurement (compare --epochs).</summary>
    [JsonPropertyName("timed_epochs")]
    public int TimedEpochs { get; init; } = 2;

    /// <summary>
    /// Medians of the runs, and the ratios: ours over each peer's median, and over the fastest peer's (the largest
    /// median; the first listed on a tie). Ratios are rounded to two places, as printed.
    /// </summary>
    public static CompareRow Create(string mode, int threads, IReadOnlyList<double> oursRuns,
                                    IReadOnlyList<(string Peer, IReadOnlyList<double> Runs)> peers,
                                    double oursRssMegabytes, double slotMegabytes)
    {
        if (oursRuns.Count == 0 || peers.Count == 0 || peers.Any(p => p.Runs.Count == 0))
        {
            throw new ArgumentException("every loader needs at least one run", nameof(peers));
        }

        double ours = Median(oursRuns);
        PeerFigures[] figures =
        [
            .. peers.Select(p =>
            {
                double median = Median(p.Runs);
                return new PeerFigures(p.Peer, median, [.. p.Runs], Math.Round(ours / median, 2));
            }),
        ];
        PeerFigures fastest = figures[0];
        foreach (PeerFigures peer in figures)
        {
            if (peer.ImagesPerSecond > fastest.ImagesPerSecond)
            {
                fastest = peer;
            }
        }

        return new CompareRow(mode, threads, ours, [.. oursRuns], figures, fastest.Peer, fastest.ImagesPerSecond,
                              fastest.OursOverThis, oursRssMegabytes, slotMegabytes);
    }

    /// <summary>The middle value; the mean of the two middle ones for an even count.</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        if (sorted.Length == 0)
        {
            throw new ArgumentException("no values", nameof(values));
        }

        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
