// Unicode normalization forms (NFC/NFD/NFKC/NFKD) implemented from embedded UCD tables, because the repo builds with
// InvariantGlobalization, where string.Normalize silently returns its input unchanged.
using System.IO.Compression;
using System.Text;

namespace MambaVL.IO.Tokenizers;

/// <summary>The four Unicode normalization forms used by tokenizer.json normalizers.</summary>
internal enum NormalForm { Nfc, Nfd, Nfkc, Nfkd }

/// <summary>Table-driven UAX #15 normalization; thread-safe, tables load once on first use.</summary>
internal static class UnicodeNormalizer
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private sealed class Tables
    {
        public readonly Dictionary<int, byte> Ccc = new();
        public readonly Dictionary<int, int[]> Canonical = new();
        public readonly Dictionary<int, int[]> Compat = new();
        public readonly Dictionary<long, int> Compose = new();

        /// <summary>Quick-check flags per code point (<see cref="QuickCheck"/>); absent means "yes" for every form.</summary>
        public readonly Dictionary<int, QuickCheck> Flags = new();
    }

    [Flags]
    private enum QuickCheck : byte
    {
        NfdNo = 1, NfkdNo = 2, NfcNo = 4, NfkcNo = 8, ComposeMaybe = 16,
    }

    private static readonly Lazy<Tables> Data = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Normalizes <paramref name="text"/> to <paramref name="form"/>.</summary>
    public static string Normalize(string text, NormalForm form)
    {
        // Fast path: text below U+00A0 is invariant under every form, and below U+0300 it is already NFC.
        char limit = form == NormalForm.Nfc ? '\u0300' : '\u00A0';
        if (text.AsSpan().IndexOfAnyExceptInRange('\0', (char)(limit - 1)) < 0) return text;
        return NormalizeSegments(Data.Value, text, form);
    }

    /// <summary>
    /// Copies text that passes the UAX #15 quick check verbatim and runs the full algorithm only on the segments
    /// (between stable starters) that might change, so mostly-normalized prompts stay cheap.
    /// </summary>
    private static string NormalizeSegments(Tables t, string text, NormalForm form)
    {
        var no = form switch
        {
            NormalForm.Nfd => QuickCheck.NfdNo,
            NormalForm.Nfkd => QuickCheck.NfkdNo,
            NormalForm.Nfc => QuickCheck.NfcNo | QuickCheck.ComposeMaybe,
            _ => QuickCheck.NfkcNo | QuickCheck.ComposeMaybe,
        };
        bool decomposed = form is NormalForm.Nfd or NormalForm.Nfkd;
        StringBuilder? sb = null; // created at the first segment that changes
        int segStart = 0, lastClass = 0;
        bool dirty = false;
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune r, out int len);
            int cp = r.Value;
            int cc = cp < 0x300 ? 0 : CombiningClass(t, cp);
            bool flagged = cp >= 0xA0 && ((t.Flags.TryGetValue(cp, out var f) && (f & no) != 0) ||
                (decomposed && cp is >= SBase and < SBase + SCount));
            if (cc == 0 && !flagged && i > segStart)
            {
                Flush(t, text, segStart, i, dirty, form, ref sb);
                (segStart, dirty) = (i, false);
            }
            if (flagged || (cc != 0 && lastClass > cc)) dirty = true;
            lastClass = cc;
            i += len;
        }
        Flush(t, text, segStart, text.Length, dirty, form, ref sb);
        return sb?.ToString() ?? text;
    }

    private static void Flush(Tables t, string text, int start, int end, bool dirty, NormalForm form, ref StringBuilder? sb)
    {
        if (!dirty)
        {
            sb?.Append(text, start, end - start);
            return;
        }
        sb ??= new StringBuilder(text.Length + 16).Append(text, 0, start);
        bool compat = form is NormalForm.Nfkc or NormalForm.Nfkd;
        var cps = new List<int>(end - start + 8);
        for (int i = start; i < end;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i, end - i), out Rune r, out int len);
            Decompose(t, r.Value, compat, cps);
            i += len;
        }
        CanonicalOrder(t, cps);
        if (form is NormalForm.Nfc or NormalForm.Nfkc) Compose(t, cps);
        foreach (int cp in cps) sb.Append(new Rune(cp).ToString());
    }

    private static void Decompose(Tables t, int cp, bool compat, List<int> output)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (t.Canonical.TryGetValue(cp, out var mapping) || (compat && t.Compat.TryGetValue(cp, out mapping)))
        {
            foreach (int m in mapping) Decompose(t, m, compat, output);
            return;
        }
        output.Add(cp);
    }

    private static int CombiningClass(Tables t, int cp) => t.Ccc.TryGetValue(cp, out byte c) ? c : 0;

    /// <summary>Stable insertion sort of each run of non-starters by combining class (runs are short).</summary>
    private static void CanonicalOrder(Tables t, List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int cc = CombiningClass(t, cps[i]);
            if (cc == 0) continue;
            int j = i;
            int cp = cps[i];
            while (j > 0)
            {
                int prev = CombiningClass(t, cps[j - 1]);
                if (prev <= cc || prev == 0) break;
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    /// <summary>Canonical composition algorithm (UAX #15 section 1.3) over a decomposed, ordered sequence.</summary>
    private static void Compose(Tables t, List<int> cps)
    {
        if (cps.Count < 2) return;
        int starterPos = CombiningClass(t, cps[0]) == 0 ? 0 : -1;
        int lastClass = starterPos == 0 ? 0 : 256;
        int write = 1;
        for (int read = 1; read < cps.Count; read++)
        {
            int cp = cps[read];
            int cc = CombiningClass(t, cp);
            bool blocked = starterPos < 0 || (lastClass != 0 && lastClass >= cc) || (lastClass == 0 && write - 1 != starterPos);
            if (!blocked && TryCompose(t, cps[starterPos], cp, out int composite))
            {
                cps[starterPos] = composite;
                continue;
            }
            if (cc == 0) { starterPos = write; lastClass = 0; }
            else lastClass = cc;
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(Tables t, int a, int b, out int composite)
    {
        if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
        {
            composite = SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
            return true;
        }
        if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
        {
            composite = a + (b - TBase);
            return true;
        }
        return t.Compose.TryGetValue(((long)a << 21) | (uint)b, out composite);
    }

    private static void BuildQuickCheck(Tables t, HashSet<int> excluded)
    {
        void Set(int cp, QuickCheck f) => t.Flags[cp] = t.Flags.GetValueOrDefault(cp) | f;
        foreach (int cp in t.Canonical.Keys)
        {
            Set(cp, QuickCheck.NfdNo | QuickCheck.NfkdNo);
            if (excluded.Contains(cp)) Set(cp, QuickCheck.NfcNo | QuickCheck.NfkcNo);
            // e.g. U+1E9B: canonically decomposes to a compatibility character, so NFKC changes it.
            List<int> canonical = [], compat = [];
            Decompose(t, cp, false, canonical);
            Decompose(t, cp, true, compat);
            if (!canonical.SequenceEqual(compat)) Set(cp, QuickCheck.NfkcNo);
        }
        foreach (int cp in t.Compat.Keys) Set(cp, QuickCheck.NfkdNo | QuickCheck.NfkcNo);
        // Anything that can be the second half of a composition may combine with what precedes it.
        foreach (long pair in t.Compose.Keys) Set((int)(pair & 0x1FFFFF), QuickCheck.ComposeMaybe);
        for (int v = VBase; v < VBase + VCount; v++) Set(v, QuickCheck.ComposeMaybe);
        for (int tr = TBase + 1; tr < TBase + TCount; tr++) Set(tr, QuickCheck.ComposeMaybe);
    }

    private static Tables Load()
    {
        var t = new Tables();
        byte[] packed = Convert.FromBase64String(UnicodeNormalizationData.DeflatedBase64.ReplaceLineEndings("").Replace(" ", ""));
        using var inflater = new DeflateStream(new MemoryStream(packed), CompressionMode.Decompress);
        using var reader = new StreamReader(inflater, Encoding.UTF8);
        var excluded = new HashSet<int>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            if (line[0] == 'X')
            {
                foreach (var h in line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries)) excluded.Add(Convert.ToInt32(h, 16));
                continue;
            }
            int colon = line.IndexOf(':');
            string key = line[1..colon], value = line[(colon + 1)..];
            if (line[0] == 'C')
            {
                int dash = key.IndexOf('-');
                int from = Convert.ToInt32(dash < 0 ? key : key[..dash], 16);
                int to = dash < 0 ? from : Convert.ToInt32(key[(dash + 1)..], 16);
                for (int cp = from; cp <= to; cp++) t.Ccc[cp] = byte.Parse(value);
                continue;
            }
            int[] mapping = Array.ConvertAll(value.Split(' '), h => Convert.ToInt32(h, 16));
            (line[0] == 'D' ? t.Canonical : t.Compat)[Convert.ToInt32(key, 16)] = mapping;
        }
        foreach (var (cp, mapping) in t.Canonical)
        {
            // Primary composites: pairwise canonical mappings that are not composition-excluded.
            if (mapping.Length == 2 && !excluded.Contains(cp)) t.Compose[((long)mapping[0] << 21) | (uint)mapping[1]] = cp;
        }
        BuildQuickCheck(t, excluded);
        return t;
    }
}
