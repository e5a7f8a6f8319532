#nullable enable
// MSBuild inline task (RoslynCodeTaskFactory): sets VER_FLG_WEAK on one GLIBCXX version requirement of an ELF64
// shared library, when the system's libstdc++ does not define that version. See TorchSharpNativeFix.targets.
using System;

using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class MarkGlibcxxRequirementWeak : Task
{
    private const ushort VerFlagWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Version { get; set; } = "";

    public override bool Execute()
    {
        string? libstdcxx = FindSystemLibstdcxx();
        if (libstdcxx != null && Contains(File.ReadAllBytes(libstdcxx), Encoding.ASCII.GetBytes(Version + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, $"{libstdcxx} defines {Version}: no patch needed.");
            return true;
        }
        foreach (ITaskItem item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                Patch(path);
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError($"{path}: cannot mark the {Version} requirement weak: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static string? FindSystemLibstdcxx()
    {
        foreach (string dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                                       "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
        {
            string candidate = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private void Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not a little-endian ELF64 file");

        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int shstrndx = BitConverter.ToUInt16(elf, 0x3E);
        long SectionOffset(int i, int field) => shoff + (long)i * shentsize + field;
        uint Name(int i) => BitConverter.ToUInt32(elf, (int)(SectionOffset(i, 0)));
        long Offset(int i) => (long)BitConverter.ToUInt64(elf, (int)SectionOffset(i, 0x18));
        int Link(int i) => (int)BitConverter.ToUInt32(elf, (int)(SectionOffset(i, 0x28)));
        long shstrtab = Offset(shstrndx);

        int verneed = -1;
        for (int i = 0; i < shnum; i++)
            if (ReadString(elf, shstrtab + Name(i)) == ".gnu.version_r") verneed = i;
        if (verneed < 0) throw new InvalidDataException("no .gnu.version_r section");
        long dynstr = Offset(Link(verneed));

        // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
        // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
        long need = Offset(verneed);
        while (true)
        {
            int count = BitConverter.ToUInt16(elf, (int)(need + 2));
            long aux = need + BitConverter.ToUInt32(elf, (int)(need + 8));
            for (int a = 0; a < count; a++)
            {
                string name = ReadString(elf, dynstr + BitConverter.ToUInt32(elf, (int)(aux + 8)));
                if (name == Version)
                {
                    ushort flags = BitConverter.ToUInt16(elf, (int)(aux + 4));
                    if ((flags & VerFlagWeak) != 0)
                    {
                        Log.LogMessage(MessageImportance.Low, $"{path}: {Version} already weak.");
                        return;
                    }
                    ushort weak = (ushort)(flags | VerFlagWeak);
                    elf[aux + 4] = (byte)(weak & 0xff);
                    elf[aux + 5] = (byte)(weak >> 8);
                    // Write a new file and move it over the old one: the output copy may be a hard link to the
                    // NuGet cache, which must stay untouched.
                    string temporary = path + ".patching";
                    File.WriteAllBytes(temporary, elf);
                    File.Delete(path);
                    File.Move(temporary, path);
                    Log.LogMessage(MessageImportance.Normal, $"{path}: marked the {Version} requirement weak.");
                    return;
                }
                uint nextAux = BitConverter.ToUInt32(elf, (int)(aux + 12));
                if (nextAux == 0) break;
                aux += nextAux;
            }
            uint next = BitConverter.ToUInt32(elf, (int)(need + 12));
            if (next == 0) break;
            need += next;
        }
        Log.LogMessage(MessageImportance.Low, $"{path}: does not require {Version}.");
    }

    private static string ReadString(byte[] data, long offset)
    {
        int end = (int)offset;
        while (data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, (int)offset, end - (int)offset);
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}
