namespace Loader.Augment;

/// <summary>A rectangle of whole source pixels (after EXIF orientation): the region a sample is cut from.</summary>
public readonly record struct CropWindow(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;

    public int Bottom => Y + Height;
}
