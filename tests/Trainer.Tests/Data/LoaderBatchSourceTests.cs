using Loader.Augment;
using Loader.Pipeline;
using Loader.Records.Format;
using Loader.Trainer.Data;
using Loader.Trainer.Models;
using SkiaSharp;
using static TorchSharp.torch;

namespace Loader.Trainer.Tests.Data;

/// <summary>The record loader's batches arrive in the training tensors unchanged: pixels, labels, partial batches.</summary>
public sealed class LoaderBatchSourceTests : IDisposable
{
    private static readonly SKColor[] s_colors = [new(200, 30, 30), new(30, 200, 30), new(30, 30, 200)];
    private readonly string _directory = Directory.CreateTempSubdirectory("trainer-records-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A plain TFRecord shard of solid-colour 32x32 JPEGs; sample i has label i % 3.</summary>
    private void WriteShard(int count)
    {
        using FileStream shard = File.Create(Path.Combine(_directory, "data-00000-of-00001.tfrecord"));
        var header = new byte[TfRecordFraming.HeaderSize];
        var footer = new byte[TfRecordFraming.FooterSize];
        for (int i = 0; i < count; i++)
        {
            int label = i % 3;
            using var bitmap = new SKBitmap(32, 32);
            bitmap.Erase(s_colors[label]);
            using SKData jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100);
            byte[] payload = new ImageExample(jpeg.ToArray(), label, $"n0000000{label}", $"colour {label}", $"{i}.jpg", 32, 32, 3).ToPayload();
            TfRecordFraming.WriteHeader(header, payload.Length);
            TfRecordFraming.WriteFooter(footer, Crc32C.Compute(payload));
            shard.Write(header);
            shard.Write(payload);
            shard.Write(footer);
        }
    }

    /// <summary>Stored order, 32x32 float32 (the shard's images are 32x32: no resize), a partial last batch.</summary>
    private LoaderOptions EvalOptions(int batch, int threads, PixelLayout layout) => new()
    {
        DataDirectory = _directory,
        BatchSize = batch,
        Threads = threads,
        Train = false,
        Augment = new AugmentOptions { OutputSize = 32, EvalResize = 32 },
        Output = OutputSpec.ImageNet(32, PixelType.Float32, layout),
        LastBatch = LastBatchPolicy.Partial,
    };

    [Fact]
    public void ReadEpoch_EvalOrder_CopiesPixelsAndLabelsIntoTheTensors()
    {
        WriteShard(12);
        using var source = new LoaderBatchSource(EvalOptions(batch: 5, threads: 2, PixelLayout.Nchw), CPU);
        Assert.Equal(3, source.ClassCount);

        var counts = new List<int>();
        var positions = new List<long>();
        int sample = 0;
        foreach (TrainingBatch batch in source.ReadEpoch(0, 0))
        {
            counts.Add(batch.Count);
            positions.Add(batch.PositionAfter);
            Assert.Equal([batch.Count, 3L, 32L, 32L], batch.Images.shape);
            long[] labels = batch.Labels.data<long>().ToArray();
            for (int i = 0; i < batch.Count; i++, sample++)
            {
                Assert.Equal(sample % 3, labels[i]);
                SKColor colour = s_colors[labels[i]];
                float[] expected =
                [
                    ((colour.Red / 255f) - 0.485f) / 0.229f,
                    ((colour.Green / 255f) - 0.456f) / 0.224f,
                    ((colour.Blue / 255f) - 0.406f) / 0.225f,
                ];
                using Tensor means = batch.Images[i].mean([1L, 2L]);
                float[] actual = means.data<float>().ToArray();
                for (int c = 0; c < 3; c++)
                    Assert.True(Math.Abs(expected[c] - actual[c]) < 0.1f, $"sample {sample} channel {c}: {actual[c]} vs {expected[c]}");
            }
        }
        Assert.Equal([5, 5, 2], counts);
        Assert.Equal([5L, 10L, 12L], positions);
    }

    /// <summary>--channels-last: the loader writes NHWC slots and the batches are NCHW-shaped channels-last views of the
    /// same pixels, partial batch included.</summary>
    [Fact]
    public void ReadEpoch_NhwcOutput_ServesChannelsLastViewsOfTheSamePixels()
    {
        WriteShard(7);
        using var plain = new LoaderBatchSource(EvalOptions(batch: 4, threads: 1, PixelLayout.Nchw), CPU);
        using var channelsLast = new LoaderBatchSource(EvalOptions(batch: 4, threads: 1, PixelLayout.Nhwc), CPU);

        var counts = new List<int>();
        foreach ((TrainingBatch a, TrainingBatch b) in plain.ReadEpoch(0, 0).Zip(channelsLast.ReadEpoch(0, 0)))
        {
            counts.Add(b.Count);
            Assert.Equal(a.Images.shape, b.Images.shape);
            Assert.False(ChannelsLast.Is(a.Images));
            Assert.True(ChannelsLast.Is(b.Images));
            Assert.True(a.Images.allclose(b.Images, rtol: 0, atol: 0));
            Assert.True(a.Labels.allclose(b.Labels, rtol: 0, atol: 0));
        }
        Assert.Equal([4, 3], counts);
    }

    /// <summary>No copy on the CPU: every full batch's image tensor is the loader's slot memory itself, one tensor per
    /// slot, reused; the slot is held until the step that read it is over.</summary>
    [Fact]
    public void ReadEpoch_OnTheCpu_ImageTensorsAliasTheLoadersSlotMemory()
    {
        WriteShard(20);
        using var source = new LoaderBatchSource(EvalOptions(batch: 2, threads: 1, PixelLayout.Nchw), CPU);
        var addresses = new HashSet<nint>();
        int batches = 0;
        foreach (TrainingBatch batch in source.ReadEpoch(0, 0))
        {
            HostBatch held = Assert.IsType<HostBatch>(source.HeldBatch);
            Assert.True(held.IsHeld);
            nint data = Loader.Trainer.Interop.TensorNative.THSTensor_data(batch.Images.Handle);
            Assert.Equal(held.ImagesPointer, data);
            addresses.Add(data);
            batches++;
        }
        Assert.Equal(10, batches);
        Assert.InRange(addresses.Count, 1, 4); // PrefetchDepth 2: four slots, each tensor reused
        Assert.Null(source.HeldBatch);
    }

    [Fact]
    public void ReadEpoch_FromAPosition_ResumesThere()
    {
        WriteShard(12);
        var options = new LoaderOptions
        {
            DataDirectory = _directory,
            BatchSize = 4,
            Threads = 1,
            Train = true,
            Augment = new AugmentOptions { OutputSize = 16 },
            Output = OutputSpec.ImageNet(16),
            LastBatch = LastBatchPolicy.Drop,
            Seed = 9,
        };
        List<long[]> full = [], resumed = [];
        using (var source = new LoaderBatchSource(options, CPU))
            foreach (TrainingBatch batch in source.ReadEpoch(1, 0)) full.Add(batch.Labels.data<long>().ToArray());
        using (var source = new LoaderBatchSource(options, CPU))
            foreach (TrainingBatch batch in source.ReadEpoch(1, 4)) resumed.Add(batch.Labels.data<long>().ToArray());

        Assert.Equal(3, full.Count);
        Assert.Equal(full.Skip(1), resumed);
    }
}
