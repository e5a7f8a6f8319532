using System.Text;
using Loader.Tools.MakeRecords.Inputs;

namespace Loader.Tools.MakeRecords.Tests.Inputs;

public class InputListTests
{
    [Fact]
    public void Add_ManyPathsAcrossChunks_ReadBackExactly()
    {
        var list = new InputList();
        var expected = new List<(string, int, long, long)>();
        var random = new Random(3);
        long total = 0;
        // About 3 MB of paths: several 1 MB chunks, with paths of every length up to the limit and non-ASCII names.
        for (int i = 0; i < 3000; i++)
        {
            string path = i % 500 == 7 ? new string('x', InputList.MaxPathBytes)
                : $"n{i % 1000:D8}/{new string('a', random.Next(0, 900))}_\u00e9\u4e2d'{i}.JPEG";
            long size = random.NextInt64(0, 1L << 40);
            expected.Add((path, i % 1000, size, i * 3L));
            list.Add(path, i % 1000, size, i * 3L);
            total += size;
        }

        Assert.Equal(expected.Count, list.Count);
        Assert.Equal(total, list.TotalSize);
        for (int i = 0; i < expected.Count; i++)
        {
            (string path, int label, long size, long id) = expected[i];
            Assert.Equal(path, list.PathOf(i));
            Assert.Equal(Encoding.UTF8.GetBytes(path), list.Utf8PathOf(i).ToArray());
            Assert.Equal(label, list.LabelOf(i));
            Assert.Equal(size, list.SizeOf(i));
            Assert.Equal(id, list.IdOf(i));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => list.LabelOf(list.Count));
        Assert.Throws<InvalidDataException>(() => list.Add(new string('y', InputList.MaxPathBytes + 1), 0, 0));
    }
}
