using System.Globalization;
using System.Text;

namespace ActorStack.Config;

/// <summary>
/// One <c>--set key=value</c> (or <c>--seed N</c>, which is <c>--set actorstack.seed=N</c>). <see cref="Key"/> is a
/// dotted path of the configuration, <c>actorstack.</c> optional, an array element by index
/// (<c>scenario.wires[0].netem</c> or <c>scenario.wires.0.netem</c>). <see cref="Value"/> is HOCON when it starts with
/// <c>{</c>, <c>[</c> or <c>"</c>, otherwise taken as it is (a string, as every leaf of the file is read).
/// </summary>
public sealed record ConfigOverride(string Key, string Value)
{
    /// <summary><c>key=value</c> as the command line gives it; null when there is no '=' or no key.</summary>
    public static ConfigOverride? Parse(string arg)
    {
        int eq = arg.IndexOf('=');
        if (eq <= 0) return null;
        return new ConfigOverride(arg[..eq].Trim(), arg[(eq + 1)..].Trim());
    }

    /// <summary>The key with the root: <c>run.settle</c> → <c>actorstack.run.settle</c>.</summary>
    public string FullKey => Key.StartsWith(StackConfig.Root + ".", StringComparison.Ordinal) || Key == StackConfig.Root ? Key : $"{StackConfig.Root}.{Key}";

    public override string ToString() => $"{Key}={Value}";
}

public static partial class StackConfig
{
    /// <summary>
    /// Writes each override into the user's tree (<c>--set</c> is an overlay over the user's file, applied before
    /// validation, so an unknown key is refused as in the file). An override inside the scenario when the user's
    /// file has none edits a copy of the default scenario (which the user's file would otherwise replace whole).
    /// </summary>
    private static void ApplyOverrides(Reader r, Dictionary<string, object?> user, Dictionary<string, object?> defRoot,
        IReadOnlyList<ConfigOverride> overrides)
    {
        foreach (var o in overrides)
        {
            var parts = SplitKey(o.FullKey);
            if (parts is null || parts.Count < 2 || parts[0] != Root)
            {
                r.Errors.Add($"--set {o}: '{o.Key}' is not a key path (e.g. run.max-duration, scenario.wires[0].delay)");
                continue;
            }
            if (!user.TryGetValue(Root, out var ro) || ro is not Dictionary<string, object?> root)
                user[Root] = root = new Dictionary<string, object?>();
            if (parts[1] == "scenario" && !root.ContainsKey("scenario"))
                root["scenario"] = ConfigTree.Parse(DefaultText, "stack.hocon")[Root] is Dictionary<string, object?> d ? d["scenario"] : null;
            var value = OverrideValue(o, out var error);
            if (error is not null) { r.Errors.Add(error); continue; }
            object? cur = root;
            for (int i = 1; i < parts.Count; i++)
            {
                bool last = i == parts.Count - 1;
                var part = parts[i];
                var where = string.Join('.', parts.Take(i));
                if (cur is List<object?> list)
                {
                    if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int idx) || idx >= list.Count)
                    {
                        r.Errors.Add($"--set {o}: {where} has {list.Count} element(s), '{part}' is not one of them (0..{list.Count - 1})");
                        cur = null;
                        break;
                    }
                    if (last) list[idx] = value;
                    else cur = list[idx];
                    continue;
                }
                if (cur is not Dictionary<string, object?> obj)
                {
                    r.Errors.Add($"--set {o}: {where} is not an object");
                    cur = null;
                    break;
                }
                if (last) obj[part] = value;
                else
                {
                    if (!obj.TryGetValue(part, out var next) || next is null)
                        obj[part] = next = new Dictionary<string, object?>();
                    cur = next;
                }
            }
        }
    }

    private static object? OverrideValue(ConfigOverride o, out string? error)
    {
        error = null;
        var v = o.Value;
        if (v.Length == 0 || v[0] is not ('{' or '[' or '"')) return v;
        try
        {
            return ConfigTree.Parse("v = " + v, "--set").GetValueOrDefault("v");
        }
        catch (StackConfigException e)
        {
            error = $"--set {o}: the value is not valid HOCON ({string.Join("; ", e.Errors)})";
            return null;
        }
    }

    /// <summary><c>a.b[2].c</c> → [a, b, 2, c]; null when malformed.</summary>
    private static List<string>? SplitKey(string key)
    {
        var result = new List<string>();
        foreach (var seg in key.Split('.'))
        {
            var s = seg;
            int br = s.IndexOf('[');
            var name = br < 0 ? s : s[..br];
            if (name.Length == 0 && br != 0) return null;
            if (name.Length > 0) result.Add(name);
            while (br >= 0)
            {
                int close = s.IndexOf(']', br);
                if (close < 0) return null;
                result.Add(s[(br + 1)..close]);
                s = s[(close + 1)..];
                if (s.Length > 0 && s[0] != '[') return null;
                br = s.Length == 0 ? -1 : 0;
            }
        }
        return result.Count == 0 || result.Any(p => p.Length == 0) ? null : result;
    }

    /// <summary>Errors about a key an override set name the override: "--set KEY=VALUE: …".</summary>
    private static List<string> OverrideErrors(List<string> errors, IReadOnlyList<ConfigOverride>? overrides)
    {
        if (overrides is not { Count: > 0 }) return errors;
        return errors.Select(e =>
        {
            var o = overrides.LastOrDefault(x => Normalise(e).StartsWith(Normalise(x.FullKey), StringComparison.Ordinal));
            return o is null || e.StartsWith("--set", StringComparison.Ordinal) ? e : $"--set {o}: {e}";
        }).ToList();
    }

    private static string Normalise(string k) => k.Replace("[", ".", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal);

    /// <summary>
    /// The configuration a run uses, as HOCON: <c>stack.hocon</c> with the user's file and the overrides merged in
    /// (the scenario the run uses, whole). Loading this text gives the same settings.
    /// </summary>
    public static string EffectiveText(string? userText, string origin = "config", IReadOnlyList<ConfigOverride>? overrides = null)
    {
        Load(userText, origin, overrides, out var effective);
        var sb = new StringBuilder();
        sb.Append(Root).Append(' ');
        WriteHocon(sb, effective, 0);
        sb.AppendLine();
        return sb.ToString();
    }

    private static void WriteHocon(StringBuilder sb, object? v, int indent)
    {
        switch (v)
        {
            case Dictionary<string, object?> d:
                sb.AppendLine("{");
                foreach (var (k, child) in d)
                {
                    sb.Append(' ', (indent + 1) * 2).Append(ConfigText.Quote(k)).Append(child is Dictionary<string, object?> ? " " : " = ");
                    WriteHocon(sb, child, indent + 1);
                    sb.AppendLine();
                }
                sb.Append(' ', indent * 2).Append('}');
                break;
            case List<object?> l:
                if (l.Count == 0) { sb.Append("[]"); break; }
                sb.AppendLine("[");
                foreach (var item in l)
                {
                    sb.Append(' ', (indent + 1) * 2);
                    WriteHocon(sb, item, indent + 1);
                    sb.AppendLine();
                }
                sb.Append(' ', indent * 2).Append(']');
                break;
            case null: sb.Append("null"); break;
            default: sb.Append(ConfigText.Quote(v.ToString() ?? "")); break;
        }
    }
}
