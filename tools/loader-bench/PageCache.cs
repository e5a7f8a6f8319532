namespace Loader.Tools.Bench;

/// <summary>Drops the Linux page cache (for cold-storage measurements), where the OS allows it.</summary>
internal static class PageCache
{
    private const string DropCachesPath = "/proc/sys/vm/drop_caches";

    /// <summary>Flushes dirty pages, then drops clean ones; false with the reason when not permitted here.</summary>
    public static bool TryDrop(out string? why)
    {
        why = null;
        if (!OperatingSystem.IsLinux())
        {
            why = "only Linux can drop the page cache; measuring with it warm";
            return false;
        }

        try
        {
            using (var sync = System.Diagnostics.Process.Start("sync"))
            {
                sync?.WaitForExit();
            }

            File.WriteAllText(DropCachesPath, "3\n");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            why = $"cannot write {DropCachesPath} ({e.Message}); measuring with the cache as it is";
            return false;
        }
    }
}
