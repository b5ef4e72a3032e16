// Cuts streamed text at the first stop string, which may arrive split over several pieces. Text that could be the
// start of a stop string is held back until it is known not to be; the stop string itself is never released.
namespace MambaVL.Generation.Streaming;

public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private string _pending = "";

    public StopStringMatcher(IEnumerable<string> stops)
    {
        _stops = stops.Where(s => s.Length > 0).Distinct().ToArray();
    }

    /// <summary>The stop string that ended the text, once one has been seen.</summary>
    public string? Matched { get; private set; }

    /// <summary>Adds text; returns the part that is now safe to release.</summary>
    public string Push(string text)
    {
        if (Matched != null) return "";
        _pending += text;
        if (_stops.Length == 0) return Release(_pending.Length);

        int cut = -1;
        foreach (var stop in _stops)
        {
            int at = _pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) { cut = at; Matched = stop; }
        }
        if (cut >= 0) { string released = _pending[..cut]; _pending = ""; return released; }
        return Release(_pending.Length - LongestStopPrefixSuffix());
    }

    /// <summary>Releases the held-back text (generation ended without a stop string).</summary>
    public string Flush() => Matched != null ? "" : Release(_pending.Length);

    private string Release(int count)
    {
        string released = _pending[..count];
        _pending = _pending[count..];
        return released;
    }

    // Length of the longest suffix of the pending text that is a proper prefix of some stop string.
    private int LongestStopPrefixSuffix()
    {
        int best = 0;
        foreach (var stop in _stops)
            for (int len = Math.Min(stop.Length - 1, _pending.Length); len > best; len--)
                if (_pending.AsSpan(_pending.Length - len).SequenceEqual(stop.AsSpan(0, len))) { best = len; break; }
        return best;
    }
}
