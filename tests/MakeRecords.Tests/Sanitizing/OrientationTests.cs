using Loader.Tools.MakeRecords.Sanitizing;

namespace Loader.Tools.MakeRecords.Tests.Sanitizing;

public class OrientationTests
{
    // A 3x2 image, pixels numbered row by row:  1 2 3 / 4 5 6.
    private static readonly uint[] s_image = [1, 2, 3, 4, 5, 6];

    [Theory]
    [InlineData(1, 3, 2, new uint[] { 1, 2, 3, 4, 5, 6 })]
    [InlineData(2, 3, 2, new uint[] { 3, 2, 1, 6, 5, 4 })]
    [InlineData(3, 3, 2, new uint[] { 6, 5, 4, 3, 2, 1 })]
    [InlineData(4, 3, 2, new uint[] { 4, 5, 6, 1, 2, 3 })]
    [InlineData(5, 2, 3, new uint[] { 1, 4, 2, 5, 3, 6 })]
    [InlineData(6, 2, 3, new uint[] { 4, 1, 5, 2, 6, 3 })]
    [InlineData(7, 2, 3, new uint[] { 6, 3, 5, 2, 4, 1 })]
    [InlineData(8, 2, 3, new uint[] { 3, 6, 2, 5, 1, 4 })]
    public void Apply_MatchesTheExifTable(int orientation, int width, int height, uint[] expected)
    {
        int w = 3, h = 2;
        uint[] upright = Orientation.Apply(s_image, ref w, ref h, orientation);
        Assert.Equal((width, height), (w, h));
        Assert.Equal(expected, upright);
    }
}
