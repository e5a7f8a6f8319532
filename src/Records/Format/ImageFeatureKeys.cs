namespace Loader.Records.Format;

/// <summary>The tf.train.Example feature keys TensorFlow's ImageNet scripts (build_imagenet_data.py) write.</summary>
public static class ImageFeatureKeys
{
    public const string Encoded = "image/encoded";
    public const string Format = "image/format";
    public const string Label = "image/class/label";
    public const string Synset = "image/class/synset";
    public const string Text = "image/class/text";
    public const string Height = "image/height";
    public const string Width = "image/width";
    public const string Channels = "image/channels";
    public const string Colorspace = "image/colorspace";
    public const string FileName = "image/filename";
}
