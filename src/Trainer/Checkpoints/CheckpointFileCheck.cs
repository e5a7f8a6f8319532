using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace Loader.Trainer.Checkpoints;

/// <summary>
/// Reads a checkpoint's tensor files through once, before TorchSharp loads them, and checks them against what they
/// will be loaded into. TorchSharp trusts its files: a truncated one can load in part, and a wrong or damaged one
/// can name any tensor or ask for any allocation. So every count, name, element type, shape and length is checked
/// here, with one line naming the file and what is wrong.
/// </summary>
/// <remarks>
/// The formats (TorchSharp 0.107). A state dict (<c>Module.save</c>): LEB128 entry count, then per entry a name
/// (7-bit length + UTF-8) and a tensor. A tensor: LEB128 element type (<see cref="ScalarType"/>), LEB128 rank, LEB128
/// sizes, the raw elements. SGD's state (<c>save_state_dict</c>): the name "SGD", LEB128 group and state counts,
/// per group 5 doubles and 2 booleans (learning rate, initial rate, momentum, dampening, weight decay, nesterov,
/// maximize), per parameter a boolean "has a momentum buffer" and that tensor.
/// </remarks>
internal static class CheckpointFileCheck
{
    private const int SgdOptionsBytes = 5 * sizeof(double) + 2;
    private const int MaxNameBytes = 4096;
    private const int MaxRank = 16;

    /// <summary>Checks a <c>Module.save</c> file against the module's own state dict (names, types, shapes).</summary>
    public static void CheckStateDict(string path, IReadOnlyDictionary<string, Tensor> expected, string owner)
    {
        using var file = new Reader(path);
        long count = file.ReadLeb128("the tensor count");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            for (long i = 0; i < count; i++)
            {
                string name = file.ReadName(i);
                if (!expected.TryGetValue(name, out Tensor? tensor))
                    throw file.Error($"holds tensor '{name}', which {owner} does not have");
                if (!seen.Add(name)) throw file.Error($"holds tensor '{name}' twice");
                file.SkipTensor(name, tensor, owner);
            }
            file.ExpectEnd();
        }
        catch (InvalidDataException) when (count != expected.Count)
        {
            // A file of another model or another kind: its count says more than where its bytes stopped making sense.
            throw file.Error($"holds {count} tensors; {owner} has {expected.Count} (not a checkpoint of this model?)");
        }
        string[] missing = [.. expected.Keys.Where(k => !seen.Contains(k))];
        if (missing.Length > 0)
            throw file.Error($"lacks tensor '{missing[0]}'{(missing.Length > 1 ? $" (and {missing.Length - 1} more)" : "")}");
    }

    /// <summary>Checks an SGD state file against the optimizer's groups and the parameters' types and shapes.</summary>
    public static void CheckSgdState(string path, int groups, IReadOnlyList<Tensor> parameters, string owner)
    {
        using var file = new Reader(path);
        string type = file.ReadName(-1);
        if (type != "SGD") throw file.Error($"holds the state of a '{type}' optimizer; this trainer uses SGD");
        long groupCount = file.ReadLeb128("the parameter group count");
        long stateCount = file.ReadLeb128("the parameter state count");
        if (groupCount != groups || stateCount != parameters.Count)
            throw file.Error($"holds {groupCount} parameter groups and {stateCount} parameter states; {owner} has {groups} and {parameters.Count}");
        file.Skip(groupCount * SgdOptionsBytes, "the parameter groups' options");
        for (int i = 0; i < parameters.Count; i++)
        {
            string name = $"momentum buffer {i}";
            byte has = file.ReadByte(name);
            if (has > 1) throw file.Error($"{name}: presence flag {has} (a damaged file?)");
            if (has == 1) file.SkipTensor(name, parameters[i], owner);
        }
        file.ExpectEnd();
    }

    private sealed class Reader : IDisposable
    {
        private readonly string _path;
        private readonly FileStream _stream;

        public Reader(string path)
        {
            _path = path;
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }

        private long Remaining => _stream.Length - _stream.Position;

        public InvalidDataException Error(string problem) => new($"{_path}: {problem}");

        private InvalidDataException Truncated(string what) =>
            Error(string.Create(CultureInfo.InvariantCulture, $"truncated: the file ends at byte {_stream.Length}, inside {what}"));

        public byte ReadByte(string what)
        {
            int b = _stream.ReadByte();
            return b < 0 ? throw Truncated(what) : (byte)b;
        }

        public long ReadLeb128(string what)
        {
            long value = 0;
            for (int shift = 0; shift < 63; shift += 7)
            {
                byte b = ReadByte(what);
                value |= (long)(b & 0x7f) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw Error($"{what} is not a valid number (a damaged or foreign file?)");
        }

        /// <summary>A tensor name (or, at <paramref name="index"/> -1, the optimizer's type name).</summary>
        public string ReadName(long index)
        {
            string what = index < 0 ? "the optimizer's name" : $"the name of tensor {index + 1}";
            long length = ReadLeb128(what);
            if (length > MaxNameBytes) throw Error($"{what} claims {length} bytes (a damaged or foreign file?)");
            if (length > Remaining) throw Truncated(what);
            byte[] bytes = new byte[length];
            _stream.ReadExactly(bytes);
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Error($"{what} is not text (a damaged or foreign file?)");
            }
        }

        /// <summary>Checks a tensor's header against <paramref name="expected"/> and steps over its elements.</summary>
        public void SkipTensor(string name, Tensor expected, string owner)
        {
            long type = ReadLeb128($"tensor '{name}'");
            if (type != (long)expected.dtype)
                throw Error($"tensor '{name}' has element type {Describe(type)}; {owner} has {expected.dtype}");
            long rank = ReadLeb128($"tensor '{name}'");
            if (rank > MaxRank) throw Error($"tensor '{name}' claims {rank} dimensions (a damaged file?)");
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) shape[d] = ReadLeb128($"tensor '{name}'");
            if (!shape.SequenceEqual(expected.shape))
                throw Error($"tensor '{name}' has shape [{string.Join(", ", shape)}]; {owner} has [{string.Join(", ", expected.shape)}]");
            Skip(expected.numel() * expected.element_size(), $"tensor '{name}'");
        }

        public void Skip(long bytes, string what)
        {
            if (bytes > Remaining) throw Truncated(what);
            _stream.Seek(bytes, SeekOrigin.Current);
        }

        public void ExpectEnd()
        {
            if (Remaining > 0)
                throw Error(string.Create(CultureInfo.InvariantCulture, $"{Remaining} bytes after the last tensor (a damaged file, or not one of this trainer's checkpoints?)"));
        }

        private static string Describe(long type) =>
            type is >= 0 and <= sbyte.MaxValue && Enum.IsDefined((ScalarType)(sbyte)type)
                ? ((ScalarType)(sbyte)type).ToString()
                : string.Create(CultureInfo.InvariantCulture, $"code {type} (unknown)");

        public void Dispose() => _stream.Dispose();
    }
}
