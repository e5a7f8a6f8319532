using System.Globalization;

namespace Loader.Augment.Jpeg;

/// <summary>
/// How <see cref="RestartTranscoder"/> spaces restart markers: <c>off</c> (leave the JPEG as it is), <c>rows</c> (one
/// interval per MCU row), <c>N</c> (intervals of at most N MCUs that tile each row: the largest divisor of the row's
/// MCU count not above N), or <c>auto</c> (see <see cref="RestartTranscoder.IntervalFor"/>).
/// </summary>
public readonly record struct RestartMode
{
    private RestartMode(RestartModeKind kind, int mcus)
    {
        Kind = kind;
        Mcus = mcus;
    }

    public RestartModeKind Kind { get; }

    /// <summary>The N of <see cref="RestartModeKind.Mcus"/>; 0 otherwise.</summary>
    public int Mcus { get; }

    public static RestartMode Off { get; } = new(RestartModeKind.Off, 0);

    public static RestartMode Rows { get; } = new(RestartModeKind.Rows, 0);

    public static RestartMode Auto { get; } = new(RestartModeKind.Auto, 0);

    public bool IsOff => Kind == RestartModeKind.Off;

    public static RestartMode EveryMcus(int mcus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mcus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mcus, 65535);
        return new RestartMode(RestartModeKind.Mcus, mcus);
    }

    /// <summary>Reads <c>off</c>, <c>rows</c>, <c>auto</c> or a number of MCUs (1..65535).</summary>
    public static RestartMode Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        return t switch
        {
            "off" or "none" => Off,
            "rows" or "row" => Rows,
            "auto" => Auto,
            _ when int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 65535 => EveryMcus(n),
            _ => throw new ArgumentException($"--restart-interval: \"{text}\" is not off, rows, auto or a number of MCUs (1..65535)"),
        };
    }

    /// <summary>The text <see cref="Parse"/> reads back: off, rows, auto or N.</summary>
    public override string ToString() => Kind switch
    {
        RestartModeKind.Off => "off",
        RestartModeKind.Rows => "rows",
        RestartModeKind.Auto => "auto",
        _ => Mcus.ToString(CultureInfo.InvariantCulture),
    };
}

public enum RestartModeKind
{
    Off,
    Rows,
    Mcus,
    Auto,
}
