namespace Loader.Tools.Benchmarks;

/// <summary>Where the benchmarks find the shared ImageNet sample by default: <c>REPO/../shared/data/imagenet-sample</c>.</summary>
internal static class SharedSample
{
    /// <summary>
    /// Walks up from the working directory, then from the program's folder, to the folder holding Loader.sln, so the
    /// default works from the repository root, from a tool's folder, and from any artifacts path under the repository.
    /// </summary>
    public static string DefaultDirectory()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Loader.sln")))
                {
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "imagenet-sample"));
                }
            }
        }

        return Path.GetFullPath(Path.Combine("..", "shared", "data", "imagenet-sample"));
    }
}
