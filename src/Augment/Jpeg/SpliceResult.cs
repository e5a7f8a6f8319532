namespace Loader.Augment.Jpeg;

/// <summary>
/// A sub-JPEG that <see cref="JpegSplicer"/> built: <see cref="Length"/> bytes in <see cref="JpegSplicer.Output"/>, an
/// image of its own whose pixel (0, 0) is pixel (<see cref="OriginX"/>, <see cref="OriginY"/>) of the source, both in
/// the coordinates of the image scaled by the DCT scale the splice was planned for (8/8: source pixels).
/// </summary>
/// <param name="Length">Bytes of the sub-JPEG.</param>
/// <param name="OriginX">Left edge of the sub-image in the scaled source image.</param>
/// <param name="OriginY">Top edge of the sub-image in the scaled source image.</param>
/// <param name="ScaledWidth">Width of the sub-image once decoded at that scale.</param>
/// <param name="ScaledHeight">Height of the sub-image once decoded at that scale.</param>
/// <param name="EntropyBytes">Entropy-coded bytes copied into the sub-JPEG (what the decoder will Huffman-decode).</param>
/// <param name="SourceEntropyBytes">Entropy-coded bytes of the whole source (from its scan header to its end).</param>
public readonly record struct SpliceResult(int Length, int OriginX, int OriginY, int ScaledWidth, int ScaledHeight, int EntropyBytes,
    int SourceEntropyBytes);
