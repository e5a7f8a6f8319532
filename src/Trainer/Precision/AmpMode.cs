namespace Loader.Trainer.Precision;

/// <summary>Mixed precision: fp16 (autocast + dynamic loss scaling), bf16 (autocast, no scaling needed), or off (fp32).</summary>
public enum AmpMode
{
    Off,
    Fp16,
    Bf16,
}

public static class AmpModes
{
    public static AmpMode Parse(string value) => value.ToLowerInvariant() switch
    {
        "off" or "fp32" or "none" => AmpMode.Off,
        "fp16" or "half" => AmpMode.Fp16,
        "bf16" or "bfloat16" => AmpMode.Bf16,
        _ => throw new ArgumentException($"--amp {value}: expected fp16, bf16 or off."),
    };
}
