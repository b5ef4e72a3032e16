// Translates the Oniguruma (Ruby syntax) regexes that tokenizer.json files carry into .NET regex syntax: possessive
// quantifiers become atomic groups, \h and \x{..} are rewritten, and constructs .NET cannot express raise an error.
using System.Text;

namespace MambaVL.IO.Tokenizers;

/// <summary>One-pass translator from Oniguruma/Ruby regex syntax to .NET; throws <see cref="NotSupportedException"/>.</summary>
internal static class OnigurumaTranslator
{
    private static readonly Dictionary<string, string> PropertyAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["letter"] = "L", ["uppercaseletter"] = "Lu", ["lowercaseletter"] = "Ll", ["titlecaseletter"] = "Lt",
        ["modifierletter"] = "Lm", ["otherletter"] = "Lo", ["mark"] = "M", ["combiningmark"] = "M",
        ["nonspacingmark"] = "Mn", ["spacingmark"] = "Mc", ["enclosingmark"] = "Me", ["number"] = "N",
        ["decimalnumber"] = "Nd", ["digit"] = "Nd", ["letternumber"] = "Nl", ["othernumber"] = "No",
        ["punctuation"] = "P", ["punct"] = "P", ["connectorpunctuation"] = "Pc", ["dashpunctuation"] = "Pd",
        ["openpunctuation"] = "Ps", ["closepunctuation"] = "Pe", ["initialpunctuation"] = "Pi",
        ["finalpunctuation"] = "Pf", ["otherpunctuation"] = "Po", ["symbol"] = "S", ["mathsymbol"] = "Sm",
        ["currencysymbol"] = "Sc", ["modifiersymbol"] = "Sk", ["othersymbol"] = "So", ["separator"] = "Z",
        ["spaceseparator"] = "Zs", ["lineseparator"] = "Zl", ["paragraphseparator"] = "Zp", ["other"] = "C",
        ["control"] = "Cc", ["cntrl"] = "Cc", ["format"] = "Cf", ["surrogate"] = "Cs", ["privateuse"] = "Co",
        ["unassigned"] = "Cn",
    };

    private static readonly HashSet<string> Categories = new(StringComparer.Ordinal)
    {
        "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Ps", "Pe",
        "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn",
    };

    /// <summary>The .NET form of <paramref name="pattern"/>; use with RegexOptions.Multiline (Ruby ^/$ are line anchors).</summary>
    public static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var groupStarts = new Stack<int>();
        int atomStart = -1;
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            switch (c)
            {
                case '\\':
                    atomStart = sb.Length;
                    i = TranslateEscape(pattern, i, sb, inClass: false);
                    break;
                case '[':
                    atomStart = sb.Length;
                    i = TranslateClass(pattern, i, sb);
                    break;
                case '(':
                    groupStarts.Push(sb.Length);
                    i = TranslateGroupOpen(pattern, i, sb);
                    atomStart = -1;
                    break;
                case ')':
                    if (groupStarts.Count == 0) throw new NotSupportedException($"unbalanced ')' at {i}");
                    sb.Append(')');
                    atomStart = groupStarts.Pop();
                    i++;
                    break;
                case '*' or '+' or '?' or '{':
                    i = TranslateQuantifier(pattern, i, sb, atomStart);
                    break;
                case '|':
                    sb.Append('|');
                    atomStart = -1;
                    i++;
                    break;
                default:
                    if (char.IsSurrogate(c)) throw new NotSupportedException("characters outside the BMP in a pattern");
                    atomStart = sb.Length;
                    sb.Append(c);
                    i++;
                    break;
            }
        }
        if (groupStarts.Count != 0) throw new NotSupportedException("unbalanced '('");
        return sb.ToString();
    }

    private static int TranslateGroupOpen(string p, int i, StringBuilder sb)
    {
        if (i + 1 >= p.Length || p[i + 1] != '?') { sb.Append('('); return i + 1; }
        int j = i + 2;
        if (j < p.Length && (p[j] is ':' or '=' or '!' or '>' ||
            (p[j] == '<' && j + 1 < p.Length && p[j + 1] is '=' or '!' or (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or '_')))
        {
            sb.Append("(?");
            return j;
        }
        // Inline options (?imx-imx) or (?imx-imx:...); Ruby's 'm' is "dot matches newline", .NET's 's'.
        var opts = new StringBuilder("(?");
        while (j < p.Length && p[j] is 'i' or 'm' or 'x' or '-')
        {
            opts.Append(p[j] == 'm' ? 's' : p[j]);
            j++;
        }
        if (j >= p.Length || p[j] is not (':' or ')')) throw new NotSupportedException($"group syntax at {i}: '{p[i..Math.Min(p.Length, i + 6)]}'");
        sb.Append(opts);
        return j;
    }

    private static int TranslateQuantifier(string p, int i, StringBuilder sb, int atomStart)
    {
        bool interval = p[i] == '{';
        if (interval)
        {
            int close = p.IndexOf('}', i);
            string body = close < 0 ? "" : p[(i + 1)..close];
            if (close < 0 || !IsIntervalBody(body))
            {
                // Not a quantifier: Oniguruma reads a lone '{' literally.
                sb.Append("\\{");
                return i + 1;
            }
            sb.Append(p, i, close - i + 1);
            i = close + 1;
        }
        else
        {
            sb.Append(p[i]);
            i++;
        }
        if (atomStart < 0) throw new NotSupportedException($"quantifier without a target at {i - 1}");
        if (i < p.Length && p[i] == '?') { sb.Append('?'); return i + 1; }
        if (i < p.Length && p[i] == '+')
        {
            // Ruby syntax: X?+ X*+ X++ are possessive (atomic); X{n,m}+ is a quantified interval.
            string atom = sb.ToString(atomStart, sb.Length - atomStart);
            sb.Length = atomStart;
            sb.Append(interval ? "(?:" + atom + ")+" : "(?>" + atom + ")");
            return i + 1;
        }
        return i;
    }

    private static bool IsIntervalBody(string body)
    {
        if (body.Length == 0) return false;
        int comma = body.IndexOf(',');
        string a = comma < 0 ? body : body[..comma];
        string b = comma < 0 ? "" : body[(comma + 1)..];
        static bool Digits(string s) => s.All(char.IsAsciiDigit);
        return Digits(a) && Digits(b) && (a.Length > 0 || b.Length > 0) && body.Count(ch => ch == ',') <= 1;
    }

    private static int TranslateClass(string p, int i, StringBuilder sb)
    {
        sb.Append('[');
        i++;
        if (i < p.Length && p[i] == '^') { sb.Append('^'); i++; }
        if (i < p.Length && p[i] == ']') { sb.Append("\\]"); i++; }
        while (i < p.Length && p[i] != ']')
        {
            char c = p[i];
            if (c == '\\') { i = TranslateEscape(p, i, sb, inClass: true); continue; }
            if (c == '[')
            {
                if (p.AsSpan(i).StartsWith("[:")) { i = TranslatePosix(p, i, sb); continue; }
                throw new NotSupportedException("nested character classes");
            }
            if (c == '&' && i + 1 < p.Length && p[i + 1] == '&') throw new NotSupportedException("character class intersection '&&'");
            if (char.IsSurrogate(c)) throw new NotSupportedException("characters outside the BMP in a pattern");
            sb.Append(c);
            i++;
        }
        if (i >= p.Length) throw new NotSupportedException("unterminated character class");
        sb.Append(']');
        return i + 1;
    }

    private static int TranslatePosix(string p, int i, StringBuilder sb)
    {
        int end = p.IndexOf(":]", i + 2, StringComparison.Ordinal);
        if (end < 0) throw new NotSupportedException("unterminated POSIX bracket");
        string name = p[(i + 2)..end];
        bool negated = name.StartsWith('^');
        if (negated) throw new NotSupportedException($"negated POSIX bracket [:{name}:]");
        sb.Append(name switch
        {
            "alpha" => "\\p{L}\\p{M}", "digit" => "\\p{Nd}", "alnum" => "\\p{L}\\p{M}\\p{Nd}", "upper" => "\\p{Lu}",
            "lower" => "\\p{Ll}", "space" => "\\s", "blank" => "\\t\\p{Zs}", "punct" => "\\p{P}\\p{S}",
            "cntrl" => "\\p{Cc}", "xdigit" => "0-9A-Fa-f", "word" => "\\w",
            _ => throw new NotSupportedException($"POSIX bracket [:{name}:]"),
        });
        return end + 2;
    }

    private static int TranslateEscape(string p, int i, StringBuilder sb, bool inClass)
    {
        if (i + 1 >= p.Length) throw new NotSupportedException("trailing backslash");
        char n = p[i + 1];
        switch (n)
        {
            case 'p' or 'P':
                return TranslateProperty(p, i, sb);
            case 'h':
                sb.Append(inClass ? "0-9A-Fa-f" : "[0-9A-Fa-f]");
                return i + 2;
            case 'H':
                if (inClass) throw new NotSupportedException("\\H inside a character class");
                sb.Append("[^0-9A-Fa-f]");
                return i + 2;
            case 'x' when i + 2 < p.Length && p[i + 2] == '{':
                {
                    int close = p.IndexOf('}', i);
                    int cp = Convert.ToInt32(p[(i + 3)..close], 16);
                    if (cp > 0xFFFF) throw new NotSupportedException("code points outside the BMP in a pattern");
                    sb.Append("\\u").Append(cp.ToString("X4"));
                    return close + 1;
                }
            case 'x' or 'u' or 'd' or 'D' or 'w' or 'W' or 's' or 'S' or 'n' or 'r' or 't' or 'f' or 'v' or 'e' or 'a' or '0':
            case 'A' or 'z' or 'Z' or 'b' or 'B' or 'c':
                sb.Append('\\').Append(n);
                return i + 2;
            case >= '1' and <= '9':
                sb.Append('\\').Append(n);
                return i + 2;
            default:
                if (char.IsAsciiLetter(n)) throw new NotSupportedException($"escape '\\{n}'");
                if (char.IsSurrogate(n)) throw new NotSupportedException("characters outside the BMP in a pattern");
                sb.Append('\\').Append(n);
                return i + 2;
        }
    }

    private static int TranslateProperty(string p, int i, StringBuilder sb)
    {
        bool negated = p[i + 1] == 'P';
        if (i + 2 >= p.Length || p[i + 2] != '{') throw new NotSupportedException("\\p without braces");
        int close = p.IndexOf('}', i);
        if (close < 0) throw new NotSupportedException("unterminated \\p{...}");
        string name = p[(i + 3)..close];
        if (name.StartsWith('^')) { negated = !negated; name = name[1..]; }
        string key = name.Replace("_", "").Replace(" ", "").Replace("-", "");
        if (key.Equals("whitespace", StringComparison.OrdinalIgnoreCase) || key.Equals("space", StringComparison.OrdinalIgnoreCase))
        {
            // .NET \s is exactly Unicode White_Space ([\t-\r\x85] plus categories Z).
            sb.Append(negated ? "\\S" : "\\s");
            return close + 1;
        }
        string? category = Categories.FirstOrDefault(cat => cat.Equals(name, StringComparison.OrdinalIgnoreCase) && cat.Length == name.Length);
        if (category is null && !PropertyAliases.TryGetValue(key, out category))
            throw new NotSupportedException($"Unicode property \\p{{{name}}} (.NET regex has general categories only, no scripts)");
        sb.Append(negated ? "\\P{" : "\\p{").Append(category).Append('}');
        return close + 1;
    }
}
