namespace Loader.Records.Tests.Fuzzing;

/// <summary>
/// The committed fuzzing corpus (Fuzzing/corpus/TARGET/): seeds cut from real records by <c>records-fuzz seeds</c>
/// (tools/fuzz/run.sh makes them) and every finding, named <c>finding-*</c>, kept as a regression input.
/// </summary>
internal static class FuzzCorpus
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Fuzzing", "corpus");

    public static string[] Files(string target) =>
        [.. Directory.EnumerateFiles(Path.Combine(Folder, target)).Order(StringComparer.Ordinal)];
}
