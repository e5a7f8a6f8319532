namespace Loader.Augment.Tests;

/// <summary>Paths of the checked-in fixtures (copied next to the test assembly).</summary>
internal static class Fixture
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string Image(string name) => Path.Combine(Directory, "images", name);

    public static byte[] ImageBytes(string name) => File.ReadAllBytes(Image(name));

    public static string Golden(string name) => Path.Combine(Directory, "golden", name);
}
