using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Loader.Tools.MakeRecords.Tests.Inputs.ImageNet;

/// <summary>
/// A small MATLAB level-5 MAT-file writer for the tests, written from the format's description (MathWorks, "MAT-File
/// Format", level 5): a 128-byte header, tagged elements padded to 8 bytes, small elements (up to 4 bytes inside
/// the tag) where MATLAB uses them, miMATRIX arrays (flags, dimensions, name, data), struct arrays (field name length,
/// field names, then each element's fields), char arrays as UTF-16, and miCOMPRESSED (zlib) variables.
/// Values: <see cref="double"/>, <see cref="double"/>[] (a row vector), <see cref="string"/> (a char row vector).
/// </summary>
internal static class MatFileWriter
{
    private const int MiInt8 = 1, MiUInt8 = 2, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiDouble = 9, MiMatrix = 14, MiCompressed = 15;
    private const int MxStruct = 2, MxChar = 4, MxDouble = 6;

    /// <summary>A file with one struct array variable, n x 1.</summary>
    /// <param name="name">The variable's name.</param>
    /// <param name="fields">The field names.</param>
    /// <param name="rows">[i][f]: field f of element i.</param>
    /// <param name="compress">Store the variable as miCOMPRESSED (what MATLAB's default -v7 does).</param>
    /// <param name="integersAsUInt8">Store whole numbers 0..255 as miUINT8 (MATLAB does this to save space).</param>
    public static byte[] StructArray(string name, string[] fields, object[][] rows, bool compress, bool integersAsUInt8 = false)
    {
        var body = new MemoryStream();
        Element(body, MiInt32, Int32s(32), small: true);
        byte[] names = new byte[32 * fields.Length];
        for (int f = 0; f < fields.Length; f++)
        {
            Encoding.ASCII.GetBytes(fields[f]).CopyTo(names, 32 * f);
        }

        Element(body, MiInt8, names);
        foreach (object[] row in rows)
        {
            foreach (object value in row)
            {
                body.Write(Value(value, integersAsUInt8));
            }
        }

        byte[] matrix = Matrix(MxStruct, [rows.Length, 1], name, body.ToArray());
        var file = new MemoryStream();
        file.Write(Header());
        if (compress)
        {
            var zipped = new MemoryStream();
            using (var zlib = new ZLibStream(zipped, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write(matrix);
            }

            Tag(file, MiCompressed, (int)zipped.Length);
            file.Write(zipped.ToArray()); // compressed elements are not padded
        }
        else
        {
            file.Write(matrix);
        }

        return file.ToArray();
    }

    public static byte[] Header()
    {
        byte[] header = new byte[128];
        byte[] text = Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Tue Dec  1 12:00:00 2026 (test)".PadRight(116));
        text.CopyTo(header, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(124), 0x0100);
        header[126] = (byte)'I';
        header[127] = (byte)'M';
        return header;
    }

    private static byte[] Value(object value, bool integersAsUInt8) => value switch
    {
        string text => Matrix(MxChar, [1, text.Length], "", Element(MiUInt16, Encoding.Unicode.GetBytes(text))),
        double number => Numbers([number], integersAsUInt8),
        double[] numbers => Numbers(numbers, integersAsUInt8),
        _ => throw new ArgumentException($"no MAT encoding for {value.GetType()}"),
    };

    private static byte[] Numbers(double[] values, bool integersAsUInt8)
    {
        byte[] data;
        int type;
        if (integersAsUInt8 && values.All(v => v is >= 0 and <= 255 && v == Math.Floor(v)))
        {
            data = [.. values.Select(v => (byte)v)];
            type = MiUInt8;
        }
        else
        {
            data = new byte[values.Length * 8];
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(i * 8), values[i]);
            }

            type = MiDouble;
        }

        return Matrix(MxDouble, [1, values.Length], "", Element(type, data, small: data.Length <= 4));
    }

    private static byte[] Matrix(int classCode, int[] dims, string name, byte[] body)
    {
        var content = new MemoryStream();
        byte[] flags = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(flags, (uint)classCode);
        Element(content, MiUInt32, flags);
        Element(content, MiInt32, Int32s(dims));
        Element(content, MiInt8, Encoding.ASCII.GetBytes(name), small: name.Length is > 0 and <= 4);
        content.Write(body);
        return Element(MiMatrix, content.ToArray());
    }

    private static byte[] Int32s(params int[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private static byte[] Element(int type, byte[] data, bool small = false)
    {
        var stream = new MemoryStream();
        Element(stream, type, data, small);
        return stream.ToArray();
    }

    private static void Element(MemoryStream stream, int type, byte[] data, bool small = false)
    {
        if (small && data.Length <= 4)
        {
            byte[] tag = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(tag, (uint)(data.Length << 16 | type));
            data.CopyTo(tag, 4);
            stream.Write(tag);
            return;
        }

        Tag(stream, type, data.Length);
        stream.Write(data);
        stream.Write(new byte[(8 - (data.Length % 8)) % 8]);
    }

    private static void Tag(MemoryStream stream, int type, int length)
    {
        byte[] tag = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(tag, type);
        BinaryPrimitives.WriteInt32LittleEndian(tag.AsSpan(4), length);
        stream.Write(tag);
    }
}
