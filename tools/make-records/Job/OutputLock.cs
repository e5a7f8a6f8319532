namespace Loader.Tools.MakeRecords.Job;

/// <summary>
/// An exclusive lock on an output folder for the length of a run: <c>.make-records/lock</c> opened with
/// <see cref="FileShare.None"/>, which .NET takes on Linux as an advisory <c>flock(LOCK_EX | LOCK_NB)</c>, held by the
/// open file and released by the kernel when the process ends, however it ends (a kill leaves no stale lock).
/// A second run into the same folder fails at once instead of interleaving its shards with the first's.
/// </summary>
internal sealed class OutputLock : IDisposable
{
    private readonly FileStream _file;

    private OutputLock(FileStream file) => _file = file;

    public static OutputLock Take(string workFolder, string output)
    {
        string path = Path.Combine(workFolder, "lock");
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            file.Write(System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n"));
            file.Flush();
            return new OutputLock(file);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"{output}: another make-records run is writing into this folder (it holds {path}); wait for it to finish", e);
        }
    }

    public void Dispose() => _file.Dispose();
}
