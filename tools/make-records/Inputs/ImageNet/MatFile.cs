using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Loader.Tools.MakeRecords.Inputs.ImageNet;

/// <summary>A value of a MATLAB file: numbers (as doubles), text, a struct array or a cell array; column-major.</summary>
internal abstract record MatValue(string Name, int[] Dimensions);

internal sealed record MatNumeric(string Name, int[] Dimensions, double[] Values) : MatValue(Name, Dimensions);

/// <summary>A char array; a row vector is one string (MATLAB stores text as UTF-16 code units).</summary>
internal sealed record MatChar(string Name, int[] Dimensions, string Text) : MatValue(Name, Dimensions);

/// <summary>A struct array: <see cref="Elements"/>[i][f] is field <see cref="FieldNames"/>[f] of element i.</summary>
internal sealed record MatStruct(string Name, int[] Dimensions, string[] FieldNames, MatValue[][] Elements) : MatValue(Name, Dimensions)
{
    public MatValue? Field(int element, string field)
    {
        int f = Array.IndexOf(FieldNames, field);
        return f < 0 ? null : Elements[element][f];
    }
}

internal sealed record MatCell(string Name, int[] Dimensions, MatValue[] Cells) : MatValue(Name, Dimensions);

/// <summary>Any other class (sparse, objects, function handles): kept as a name, never read.</summary>
internal sealed record MatOther(string Name, int[] Dimensions, int ClassCode) : MatValue(Name, Dimensions);

/// <summary>
/// Reads a MATLAB level-5 MAT file (what MATLAB's <c>save</c> writes up to -v7, and what the ImageNet devkit's
/// <c>data/meta.mat</c> is): a 128-byte header, then tagged data elements; <c>miCOMPRESSED</c> elements are zlib
/// streams of further elements; <c>miMATRIX</c> elements hold numeric, char, struct and cell arrays. Little-endian
/// files only (MATLAB on every current platform). Hostile input is refused with one line naming the file and byte
/// offset: every length is checked against what is there, nesting is bounded, decompression is capped.
/// </summary>
internal static class MatFile
{
    private const int HeaderBytes = 128;
    private const int MaxDepth = 32;

    /// <summary>The most bytes a compressed variable may inflate to (meta.mat's synsets: about 1 MB).</summary>
    public const int MaxInflatedBytes = 256 << 20;

    private const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7, MiDouble = 9,
                      MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15, MiUtf8 = 16, MiUtf16 = 17;

    private const int MxCell = 1, MxStruct = 2, MxChar = 4, MxDouble = 6, MxUInt64 = 15;

    public static bool LooksLikeMatFile(ReadOnlySpan<byte> start) => start.StartsWith("MATLAB 5.0 MAT-file"u8);

    /// <summary>The file's top-level variables, in file order.</summary>
    public static IReadOnlyList<MatValue> Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderBytes || !LooksLikeMatFile(bytes))
        {
            throw new InvalidDataException($"{path}: not a MATLAB 5 MAT-file (no \"MATLAB 5.0 MAT-file\" header)");
        }

        if (bytes[126] != (byte)'I' || bytes[127] != (byte)'M')
        {
            throw new InvalidDataException(bytes[126] == (byte)'M' && bytes[127] == (byte)'I'
                ? $"{path}: a big-endian MAT-file: not supported (save it again on a little-endian machine)"
                : $"{path}: bad MAT-file endian indicator at byte 126");
        }

        var values = new List<MatValue>();
        var reader = new Reader(path, bytes, HeaderBytes, bytes.Length, 0);
        while (reader.Position < reader.End)
        {
            if (reader.End - reader.Position < 8 && bytes.AsSpan(reader.Position, reader.End - reader.Position).IndexOfAnyExcept((byte)0) < 0)
            {
                break; // trailing padding
            }

            values.AddRange(reader.ReadTopLevel());
        }

        return values;
    }

    /// <summary>Reads elements from <c>[Position, End)</c> of one buffer (the file, or one inflated variable).</summary>
    private sealed class Reader(string path, byte[] bytes, int position, int end, int depth)
    {
        public int Position { get; private set; } = position;

        public int End { get; } = end;

        private InvalidDataException Bad(int at, string problem) =>
            new($"{path}: byte {at.ToString(CultureInfo.InvariantCulture)}{(depth > 0 ? " of a compressed variable" : "")}: {problem}");

        /// <summary>One top-level element: a matrix, or a compressed block of them.</summary>
        public IEnumerable<MatValue> ReadTopLevel()
        {
            int at = Position;
            (int type, int length, int data, int next) = ReadTag();
            if (type == MiCompressed)
            {
                byte[] inflated = Inflate(data, length, at);
                Position = data + length; // compressed elements are not padded
                var inner = new Reader(path, inflated, 0, inflated.Length, depth + 1);
                var values = new List<MatValue>();
                while (inner.Position < inner.End)
                {
                    values.AddRange(inner.ReadTopLevel());
                }

                return values;
            }

            Position = next;
            if (type != MiMatrix)
            {
                throw Bad(at, $"top-level element of type {type}: expected a matrix (14) or compressed data (15)");
            }

            return length == 0 ? [] : [ParseMatrix(data, length, at, 0)];
        }

        private byte[] Inflate(int data, int length, int at)
        {
            if (depth > 0)
            {
                throw Bad(at, "compressed data inside compressed data");
            }

            try
            {
                using var input = new MemoryStream(bytes, data, length, writable: false);
                using var zlib = new ZLibStream(input, CompressionMode.Decompress);
                using var output = new MemoryStream();
                byte[] buffer = new byte[81920];
                int n;
                while ((n = zlib.Read(buffer)) > 0)
                {
                    if (output.Length + n > MaxInflatedBytes)
                    {
                        throw Bad(at, $"compressed variable inflates beyond {MaxInflatedBytes >> 20} MB");
                    }

                    output.Write(buffer, 0, n);
                }

                return output.ToArray();
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                throw Bad(at, $"compressed variable is not valid zlib data ({e.Message})");
            }
        }

        /// <summary>A tag at <see cref="Position"/>: type, byte count, where the data starts and where the next element
        /// starts (data padded to 8 bytes). Small elements (count in the upper 16 bits) hold up to 4 bytes inside the
        /// tag's 8 bytes. The position does not move.</summary>
        private (int Type, int Length, int Data, int Next) ReadTag()
        {
            int at = Position;
            if (End - at < 8)
            {
                throw Bad(at, "truncated: a data element tag needs 8 bytes");
            }

            uint first = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            if (first >> 16 != 0)
            {
                int smallLength = (int)(first >> 16);
                if (smallLength > 4)
                {
                    throw Bad(at, $"small data element of {smallLength} bytes (at most 4)");
                }

                return ((int)(first & 0xFFFF), smallLength, at + 4, at + 8);
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            if (length > End - (at + 8))
            {
                throw Bad(at, $"element of {length} bytes, but only {End - (at + 8)} remain");
            }

            int data = at + 8;
            return ((int)first, (int)length, data, (int)Math.Min(End, data + (((long)length + 7) & ~7L)));
        }

        /// <summary>The next sub-element of a matrix: its type and data (the position moves past it).</summary>
        private (int Type, ReadOnlyMemory<byte> Data, int At) Next(string what)
        {
            int at = Position;
            if (at >= End)
            {
                throw Bad(at, $"truncated: missing {what}");
            }

            (int type, int length, int data, int next) = ReadTag();
            Position = next;
            return (type, bytes.AsMemory(data, length), at);
        }

        private MatValue ParseMatrix(int data, int length, int at, int level)
        {
            if (level > MaxDepth)
            {
                throw Bad(at, $"arrays nested deeper than {MaxDepth}");
            }

            var inner = new Reader(path, bytes, data, data + length, depth);
            (int flagsType, ReadOnlyMemory<byte> flags, int flagsAt) = inner.Next("array flags");
            if (flagsType != MiUInt32 || flags.Length != 8)
            {
                throw Bad(flagsAt, "array flags: expected 8 bytes of uint32");
            }

            uint flagWord = BinaryPrimitives.ReadUInt32LittleEndian(flags.Span);
            int classCode = (int)(flagWord & 0xFF);
            bool complex = (flagWord & 0x800) != 0;
            (int dimsType, ReadOnlyMemory<byte> dimsData, int dimsAt) = inner.Next("dimensions");
            if (dimsType != MiInt32 || dimsData.Length < 8 || dimsData.Length % 4 != 0)
            {
                throw Bad(dimsAt, "dimensions: expected at least two int32");
            }

            int[] dims = new int[dimsData.Length / 4];
            long count = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = BinaryPrimitives.ReadInt32LittleEndian(dimsData.Span[(i * 4)..]);
                count *= Math.Max(0, dims[i]);
                if (dims[i] < 0 || count > int.MaxValue)
                {
                    throw Bad(dimsAt, $"dimensions {string.Join('x', dims[..(i + 1)])}: negative or too many elements");
                }
            }

            (int nameType, ReadOnlyMemory<byte> nameData, int nameAt) = inner.Next("array name");
            if (nameType is not (MiInt8 or MiUInt8 or MiUtf8))
            {
                throw Bad(nameAt, $"array name of type {nameType}: expected int8 text");
            }

            string name = Encoding.UTF8.GetString(nameData.Span);
            int n = (int)count;
            switch (classCode)
            {
                case MxStruct:
                    return inner.ParseStruct(name, dims, n, level);
                case MxCell:
                    if ((long)n * 8 > inner.End - inner.Position)
                    {
                        throw Bad(at, $"cell array of {n} elements cannot fit in the {inner.End - inner.Position} bytes left");
                    }

                    var cells = new MatValue[n];
                    for (int i = 0; i < n; i++)
                    {
                        cells[i] = inner.NextMatrix(level, "cell");
                    }

                    return new MatCell(name, dims, cells);
                case MxChar:
                    (int charType, ReadOnlyMemory<byte> chars, int charsAt) = n == 0 && inner.Position >= inner.End ? (MiUInt16, default, at) : inner.Next("text");
                    return new MatChar(name, dims, DecodeText(charType, chars.Span, n, charsAt));
                case >= MxDouble and <= MxUInt64:
                    (int realType, ReadOnlyMemory<byte> real, int realAt) = n == 0 && inner.Position >= inner.End ? (MiDouble, default, at) : inner.Next("values");
                    double[] values = DecodeNumbers(realType, real.Span, realAt);
                    if (values.Length != n)
                    {
                        throw Bad(realAt, $"{values.Length} values for {n} elements");
                    }

                    if (complex)
                    {
                        inner.Next("imaginary part");
                    }

                    return new MatNumeric(name, dims, values);
                default:
                    return new MatOther(name, dims, classCode);
            }
        }

        private MatStruct ParseStruct(string name, int[] dims, int count, int level)
        {
            (int lengthType, ReadOnlyMemory<byte> lengthData, int lengthAt) = Next("field name length");
            if (lengthType != MiInt32 || lengthData.Length != 4)
            {
                throw Bad(lengthAt, "struct field name length: expected one int32");
            }

            int nameLength = BinaryPrimitives.ReadInt32LittleEndian(lengthData.Span);
            (int namesType, ReadOnlyMemory<byte> namesData, int namesAt) = Next("field names");
            if (nameLength <= 0 || namesType != MiInt8 || namesData.Length % nameLength != 0)
            {
                throw Bad(namesAt, $"struct field names: {namesData.Length} bytes are not a whole number of {nameLength}-byte names");
            }

            string[] fields = new string[namesData.Length / nameLength];
            for (int f = 0; f < fields.Length; f++)
            {
                ReadOnlySpan<byte> raw = namesData.Span.Slice(f * nameLength, nameLength);
                int zero = raw.IndexOf((byte)0);
                fields[f] = Encoding.ASCII.GetString(zero < 0 ? raw : raw[..zero]);
            }

            // Each field of each element is a tagged element of at least 8 bytes: a count that cannot fit is refused
            // before anything is allocated for it.
            if ((long)count * Math.Max(1, fields.Length) * 8 > End - Position + (fields.Length == 0 ? 1L << 20 : 0))
            {
                throw Bad(Position, $"struct of {count} elements x {fields.Length} fields cannot fit in the {End - Position} bytes left");
            }

            var elements = new MatValue[count][];
            for (int i = 0; i < count; i++)
            {
                elements[i] = new MatValue[fields.Length];
                for (int f = 0; f < fields.Length; f++)
                {
                    elements[i][f] = NextMatrix(level, $"field {fields[f]} of element {i + 1}");
                }
            }

            return new MatStruct(name, dims, fields, elements);
        }

        private MatValue NextMatrix(int level, string what)
        {
            int at = Position;
            if (at >= End)
            {
                throw Bad(at, $"truncated: missing {what}");
            }

            (int type, int length, int data, int next) = ReadTag();
            Position = next;
            if (type != MiMatrix)
            {
                throw Bad(at, $"{what}: element of type {type}, expected a matrix (14)");
            }

            return length == 0 ? new MatNumeric("", [0, 0], []) : ParseMatrix(data, length, at, level + 1);
        }

        private string DecodeText(int type, ReadOnlySpan<byte> data, int count, int at)
        {
            string text = type switch
            {
                MiUInt16 or MiUtf16 when data.Length % 2 == 0 => Encoding.Unicode.GetString(data),
                MiUInt8 or MiInt8 or MiUtf8 => Encoding.UTF8.GetString(data),
                _ => throw Bad(at, $"text stored as type {type} ({data.Length} bytes): expected uint16 or utf8"),
            };
            return type is MiUInt16 or MiUtf16 && text.Length != count ? throw Bad(at, $"{text.Length} characters for {count} elements") : text;
        }

        private double[] DecodeNumbers(int type, ReadOnlySpan<byte> data, int at)
        {
            int size = type switch
            {
                MiInt8 or MiUInt8 => 1,
                MiInt16 or MiUInt16 => 2,
                MiInt32 or MiUInt32 or MiSingle => 4,
                MiDouble or MiInt64 or MiUInt64 => 8,
                _ => throw Bad(at, $"numbers stored as type {type}"),
            };
            if (data.Length % size != 0)
            {
                throw Bad(at, $"{data.Length} bytes are not a whole number of {size}-byte values");
            }

            var values = new double[data.Length / size];
            for (int i = 0; i < values.Length; i++)
            {
                ReadOnlySpan<byte> v = data[(i * size)..];
                values[i] = type switch
                {
                    MiInt8 => (sbyte)v[0],
                    MiUInt8 => v[0],
                    MiInt16 => BinaryPrimitives.ReadInt16LittleEndian(v),
                    MiUInt16 => BinaryPrimitives.ReadUInt16LittleEndian(v),
                    MiInt32 => BinaryPrimitives.ReadInt32LittleEndian(v),
                    MiUInt32 => BinaryPrimitives.ReadUInt32LittleEndian(v),
                    MiSingle => BinaryPrimitives.ReadSingleLittleEndian(v),
                    MiDouble => BinaryPrimitives.ReadDoubleLittleEndian(v),
                    MiInt64 => BinaryPrimitives.ReadInt64LittleEndian(v),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(v),
                };
            }

            return values;
        }
    }
}
