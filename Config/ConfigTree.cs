using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace ActorStack.Config;

/// <summary>
/// A HOCON document as a plain tree (objects as ordered dictionaries, arrays as
/// lists, leaves as strings), so that merging, unknown-key checks and typed reads
/// can each name the exact key they are about.
/// </summary>
internal static class ConfigTree
{
    public static Dictionary<string, object?> Parse(string text, string origin)
    {
        HoconValue root;
        try
        {
            root = ConfigurationFactory.ParseString(text).Root;
        }
        catch (Exception e)
        {
            throw new StackConfigException([$"{origin}: not valid HOCON: {e.Message}"]);
        }
        return Convert(root) as Dictionary<string, object?> ?? new Dictionary<string, object?>();
    }

    private static object? Convert(HoconValue? v)
    {
        if (v is null) return null;
        // An empty object ("sysctl { }") stays an object: as null it would replace the defaults it merges over.
        if (v.IsObject())
        {
            var d = new Dictionary<string, object?>();
            foreach (var (k, child) in v.GetObject().Items) d[k] = Convert(child);
            return d;
        }
        if (v.IsEmpty) return null;
        if (v.IsArray()) return v.GetArray().Select(Convert).ToList();
        return v.GetString();
    }

    /// <summary>Key-by-key merge: objects merge recursively, anything else in <paramref name="over"/> replaces.</summary>
    public static Dictionary<string, object?> Merge(Dictionary<string, object?> under, Dictionary<string, object?> over)
    {
        var result = new Dictionary<string, object?>(under);
        foreach (var (k, v) in over)
            result[k] = v is Dictionary<string, object?> o && result.TryGetValue(k, out var u) && u is Dictionary<string, object?> ud
                ? Merge(ud, o)
                : v;
        return result;
    }

    /// <summary>Leaf paths of a (sysctl-like) object, dotted: "net.core.dev_weight".</summary>
    public static IEnumerable<string> LeafPaths(Dictionary<string, object?> d, string prefix = "")
    {
        foreach (var (k, v) in d)
        {
            var p = prefix.Length == 0 ? k : prefix + "." + k;
            if (v is Dictionary<string, object?> child)
                foreach (var leaf in LeafPaths(child, p)) yield return leaf;
            else
                yield return p;
        }
    }

    public static object? Get(Dictionary<string, object?> d, string dotted)
    {
        object? cur = d;
        foreach (var part in dotted.Split('.'))
        {
            if (cur is not Dictionary<string, object?> o || !o.TryGetValue(part, out cur)) return null;
        }
        return cur;
    }
}

/// <summary>A configuration that cannot be used: every problem found, each naming its key and bad value.</summary>
public sealed class StackConfigException(IReadOnlyList<string> errors)
    : Exception("invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
