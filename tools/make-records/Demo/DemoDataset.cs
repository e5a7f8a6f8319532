using System.Globalization;
using SkiaSharp;

namespace Loader.Tools.MakeRecords.Demo;

/// <summary>Options of the built-in demo data set.</summary>
internal sealed record DemoOptions(string Output, int Classes = 10, int TrainPerClass = 300, int ValPerClass = 50, ulong Seed = 0,
                                   int Threads = 0);

/// <summary>
/// The built-in demo data set: an ImageFolder tree (<c>train/CLASS/*.jpg</c>, <c>val/CLASS/*.jpg</c>) of JPEGs drawn
/// procedurally, so the README's main job and the tests need no download. Each class is one shape with its own
/// colour family and fill (solid, striped, dotted), drawn at a random position, scale and rotation over a textured
/// background: easy for a small ResNet to learn in minutes, yet not solvable by one pixel. Sizes (200-500 px sides),
/// quality (85-95) and chroma subsampling (mostly 4:2:0, some 4:4:4, a few grayscale) look like ImageNet's. Every
/// image depends only on the seed and its (split, class, index), so the set is identical whatever the thread count.
/// </summary>
internal static class DemoDataset
{
    private static readonly string[] s_shapes = ["circle", "square", "triangle", "star", "cross", "ring", "hexagon", "crescent", "arrow", "diamond"];
    private static readonly string[] s_fills = ["", "-striped", "-dotted"];

    /// <summary>Hue (degrees) of each shape's colour family, spread so no two are close.</summary>
    private static readonly float[] s_hues = [0, 216, 120, 54, 300, 180, 30, 270, 90, 330];

    public static int MaxClasses => s_shapes.Length * s_fills.Length;

    public static string ClassName(int index) => s_shapes[index % s_shapes.Length] + s_fills[index / s_shapes.Length];

    /// <summary>Writes the tree; returns the number of images.</summary>
    public static int Generate(DemoOptions options, Action? imageWritten = null)
    {
        if (options.Classes < 2 || options.Classes > MaxClasses)
        {
            throw new ArgumentException($"--classes must be between 2 and {MaxClasses}");
        }

        var jobs = new List<(string Split, int Class, int Index)>();
        foreach ((string split, int perClass) in new[] { ("train", options.TrainPerClass), ("val", options.ValPerClass) })
        {
            for (int c = 0; c < options.Classes; c++)
            {
                Directory.CreateDirectory(Path.Combine(options.Output, split, ClassName(c)));
                for (int i = 0; i < perClass; i++)
                {
                    jobs.Add((split, c, i));
                }
            }
        }

        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = threads }, job =>
        {
            ulong seed = DemoRandom.Mix(DemoRandom.Mix(options.Seed, job.Split == "train" ? 1UL : 2UL),
                                        ((ulong)job.Class << 32) | (uint)job.Index);
            byte[] jpeg = Draw(job.Class, new DemoRandom(seed));
            string file = string.Create(CultureInfo.InvariantCulture, $"{ClassName(job.Class)}_{job.Index:D5}.jpg");
            File.WriteAllBytes(Path.Combine(options.Output, job.Split, ClassName(job.Class), file), jpeg);
            imageWritten?.Invoke();
        });
        return jobs.Count;
    }

    /// <summary>Draws one image of class <paramref name="cls"/> and returns it as JPEG.</summary>
    internal static byte[] Draw(int cls, DemoRandom random)
    {
        int width = random.Between(200, 500);
        int height = Math.Clamp((int)(width * random.Range(0.65, 1.35)), 200, 500);
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info) ?? throw new InvalidOperationException("SkiaSharp could not create a surface");
        SKCanvas canvas = surface.Canvas;
        DrawBackground(canvas, width, height, random);

        int shape = cls % s_shapes.Length;
        int fill = cls / s_shapes.Length;
        float hue = (s_hues[shape] + (float)random.Range(-12, 12) + 360) % 360;
        SKColor color = SKColor.FromHsv(hue, (float)random.Range(65, 95), (float)random.Range(70, 100));
        float size = (float)(Math.Min(width, height) * random.Range(0.3, 0.7));
        float cx = (float)random.Range(size * 0.5, width - (size * 0.5));
        float cy = (float)random.Range(size * 0.5, height - (size * 0.5));
        canvas.Save();
        canvas.Translate(cx, cy);
        canvas.RotateDegrees((float)random.Range(0, 360));
        using SKPath path = ShapePath(shape, size / 2);
        using (var paint = new SKPaint { Color = color, IsAntialias = true, Style = SKPaintStyle.Fill })
        {
            canvas.DrawPath(path, paint);
        }

        DrawFillPattern(canvas, path, fill, size / 2, color);
        using (var outline = new SKPaint { Color = Darken(color, 0.45f), IsAntialias = true, Style = SKPaintStyle.Stroke,
                                           StrokeWidth = Math.Max(1.5f, size / 60) })
        {
            canvas.DrawPath(path, outline);
        }

        canvas.Restore();
        using SKImage image = surface.Snapshot();
        using SKPixmap pixmap = image.PeekPixels();
        int quality = random.Between(85, 95);
        double kind = random.NextDouble();
        if (kind < 0.02)
        {
            // A few grayscale JPEGs, as ImageNet has: the loader must still deliver 3 channels.
            using var gray = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
            pixmap.ReadPixels(gray.PeekPixels());
            using SKData? grayData = gray.PeekPixels().Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420,
                                                                                        SKJpegEncoderAlphaOption.Ignore));
            return grayData?.ToArray() ?? throw new InvalidOperationException("SkiaSharp could not encode a JPEG");
        }

        var downsample = kind < 0.12 ? SKJpegEncoderDownsample.Downsample444 : SKJpegEncoderDownsample.Downsample420;
        using SKData? data = pixmap.Encode(new SKJpegEncoderOptions(quality, downsample, SKJpegEncoderAlphaOption.Ignore));
        return data?.ToArray() ?? throw new InvalidOperationException("SkiaSharp could not encode a JPEG");
    }

    private static void DrawBackground(SKCanvas canvas, int width, int height, DemoRandom random)
    {
        // A muted two-colour gradient, then texture: translucent strokes and blobs in muted colours.
        SKColor a = SKColor.FromHsv((float)random.Range(0, 360), (float)random.Range(5, 35), (float)random.Range(35, 85));
        SKColor b = SKColor.FromHsv((float)random.Range(0, 360), (float)random.Range(5, 35), (float)random.Range(35, 85));
        using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height), [a, b], SKShaderTileMode.Clamp))
        using (var paint = new SKPaint { Shader = shader })
        {
            canvas.DrawRect(0, 0, width, height, paint);
        }

        using var texture = new SKPaint { IsAntialias = true };
        int marks = random.Between(25, 60);
        for (int i = 0; i < marks; i++)
        {
            texture.Color = SKColor.FromHsv((float)random.Range(0, 360), (float)random.Range(0, 30), (float)random.Range(20, 95))
                                   .WithAlpha((byte)random.Between(25, 90));
            float x = (float)random.Range(0, width), y = (float)random.Range(0, height);
            if (random.NextDouble() < 0.5)
            {
                texture.Style = SKPaintStyle.Stroke;
                texture.StrokeWidth = (float)random.Range(1, 6);
                canvas.DrawLine(x, y, x + (float)random.Range(-120, 120), y + (float)random.Range(-120, 120), texture);
            }
            else
            {
                texture.Style = SKPaintStyle.Fill;
                float r = (float)random.Range(3, 30);
                canvas.DrawOval(x, y, r, r * (float)random.Range(0.4, 1.0), texture);
            }
        }
    }

    private static void DrawFillPattern(SKCanvas canvas, SKPath path, int fill, float radius, SKColor color)
    {
        if (fill == 0)
        {
            return;
        }

        canvas.Save();
        canvas.ClipPath(path, antialias: true);
        using var paint = new SKPaint { Color = Darken(color, 0.35f), IsAntialias = true, StrokeWidth = Math.Max(2, radius / 8) };
        float step = Math.Max(6, radius / 3);
        for (float t = -radius; t <= radius; t += step)
        {
            if (fill == 1)
            {
                canvas.DrawLine(t, -radius, t, radius, paint);
            }
            else
            {
                for (float u = -radius; u <= radius; u += step)
                {
                    canvas.DrawCircle(t, u, step / 4, paint);
                }
            }
        }

        canvas.Restore();
    }

    private static SKPath ShapePath(int shape, float r)
    {
        var path = new SKPath();
        switch (s_shapes[shape])
        {
            case "circle":
                path.AddCircle(0, 0, r);
                break;
            case "square":
                path.AddRect(new SKRect(-r * 0.8f, -r * 0.8f, r * 0.8f, r * 0.8f));
                break;
            case "triangle":
                AddPolygon(path, 3, r, 0);
                break;
            case "star":
                AddStar(path, 5, r, r * 0.42f);
                break;
            case "cross":
                float t = r * 0.3f;
                path.AddPoly([new(-t, -r), new(t, -r), new(t, -t), new(r, -t), new(r, t), new(t, t), new(t, r), new(-t, r),
                              new(-t, t), new(-r, t), new(-r, -t), new(-t, -t)]);
                break;
            case "ring":
                path.AddCircle(0, 0, r);
                path.AddCircle(0, 0, r * 0.55f, SKPathDirection.CounterClockwise);
                path.FillType = SKPathFillType.EvenOdd;
                break;
            case "hexagon":
                AddPolygon(path, 6, r, 0);
                break;
            case "crescent":
                using (var outer = new SKPath())
                using (var inner = new SKPath())
                {
                    outer.AddCircle(0, 0, r);
                    inner.AddCircle(r * 0.45f, -r * 0.1f, r * 0.85f);
                    using SKPath? moon = outer.Op(inner, SKPathOp.Difference);
                    if (moon is not null)
                    {
                        path.AddPath(moon);
                    }
                }

                break;
            case "arrow":
                float s = r * 0.28f;
                path.AddPoly([new(-r, -s), new(r * 0.2f, -s), new(r * 0.2f, -r * 0.6f), new(r, 0), new(r * 0.2f, r * 0.6f),
                              new(r * 0.2f, s), new(-r, s)]);
                break;
            default: // diamond
                path.AddPoly([new(0, -r), new(r * 0.6f, 0), new(0, r), new(-r * 0.6f, 0)]);
                break;
        }

        return path;
    }

    private static SKColor Darken(SKColor color, float factor) =>
        new((byte)(color.Red * factor), (byte)(color.Green * factor), (byte)(color.Blue * factor));

    private static void AddPolygon(SKPath path, int sides, float r, float phase)
    {
        var points = new SKPoint[sides];
        for (int i = 0; i < sides; i++)
        {
            double angle = phase + (2 * Math.PI * i / sides) - (Math.PI / 2);
            points[i] = new SKPoint((float)(r * Math.Cos(angle)), (float)(r * Math.Sin(angle)));
        }

        path.AddPoly(points);
    }

    private static void AddStar(SKPath path, int points, float outer, float inner)
    {
        var vertices = new SKPoint[points * 2];
        for (int i = 0; i < vertices.Length; i++)
        {
            double angle = (Math.PI * i / points) - (Math.PI / 2);
            float radius = i % 2 == 0 ? outer : inner;
            vertices[i] = new SKPoint((float)(radius * Math.Cos(angle)), (float)(radius * Math.Sin(angle)));
        }

        path.AddPoly(vertices);
    }
}
