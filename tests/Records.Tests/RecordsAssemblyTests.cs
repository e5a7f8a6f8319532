namespace Loader.Records.Tests;

public class RecordsAssemblyTests
{
    [Fact]
    public void FormatVersion_IsOne() => Assert.Equal(1, RecordsAssembly.FormatVersion);
}
