using System.Text;
using System.Text.RegularExpressions;

namespace ActorStack.Config;

/// <summary>
/// The pass over a user's HOCON text before Akka's parser sees it, so that what that parser does badly is done here
/// or refused with a line number: braces and brackets must balance (Akka's parser accepts a file whose closing braces
/// are missing); <c>include "x.hocon"</c> (also <c>include file("x")</c>, <c>include required(file("x"))</c>) is
/// replaced by the file's own prepared text, resolved relative to the including file's directory; a substitution
/// <c>${X}</c> / <c>${?X}</c> that names no key of the document is taken from the environment (as a string), an
/// unset optional one leaves its key out (the default stays, as HOCON says), an unset required one is an error.
/// Substitutions naming a key of the document are left to Akka.
/// </summary>
public static partial class ConfigText
{
    /// <summary>Includes nested deeper than this are refused (an include cycle).</summary>
    public const int MaxIncludeDepth = 16;

    /// <summary>The prepared text of <paramref name="text"/> read from <paramref name="origin"/> (a file name or "config").</summary>
    /// <param name="baseDir">where relative includes are looked up (the file's directory; the current directory if null)</param>
    /// <param name="env">the environment (null: the process's)</param>
    public static string Prepare(string text, string origin, string? baseDir = null, Func<string, string?>? env = null)
    {
        var errors = new List<string>();
        var result = Prepare(text, origin, baseDir ?? Directory.GetCurrentDirectory(), env ?? Environment.GetEnvironmentVariable, errors, 0);
        if (errors.Count > 0) throw new StackConfigException(errors);
        return result;
    }

    /// <summary>The prepared text of the file at <paramref name="path"/>, its includes relative to its directory.</summary>
    public static string PrepareFile(string path, Func<string, string?>? env = null)
    {
        if (!File.Exists(path)) throw new StackConfigException([$"--config {path}: no such file"]);
        return Prepare(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path)), env);
    }

    private enum Kind { Include, Substitution }

    private readonly record struct Token(Kind Kind, int Start, int End, int Line, string Value, bool Optional);

    [GeneratedRegex("""\Ginclude\s+(?:required\s*\(\s*)?(?:file\s*\(\s*)?"([^"\n]*)"(?:\s*\))?(?:\s*\))?""")]
    private static partial Regex IncludeRegex();

    private static string Prepare(string text, string origin, string baseDir, Func<string, string?> env, List<string> errors, int depth)
    {
        var tokens = Scan(text, origin, errors);
        if (tokens is null) return "";
        if (tokens.Count == 0) return text;

        // Which substitutions name a key of this document: parse it with every substitution neutralised.
        var neutral = new StringBuilder(text);
        foreach (var t in tokens.AsEnumerable().Reverse())
        {
            neutral.Remove(t.Start, t.End - t.Start);
            if (t.Kind == Kind.Substitution) neutral.Insert(t.Start, "null");
        }
        Dictionary<string, object?>? doc = null;
        try { doc = ConfigTree.Parse(neutral.ToString(), origin); }
        catch (StackConfigException) { } // Akka's own error comes when the prepared text is parsed

        var sb = new StringBuilder(text.Length);
        int at = 0;
        foreach (var t in tokens)
        {
            if (t.Start < at) continue; // inside a field already removed
            if (t.Kind == Kind.Include)
            {
                sb.Append(text, at, t.Start - at);
                at = t.End;
                var file = Path.IsPathRooted(t.Value) ? t.Value : Path.GetFullPath(Path.Combine(baseDir, t.Value));
                if (depth >= MaxIncludeDepth)
                {
                    errors.Add($"{origin}: line {t.Line}: include \"{t.Value}\": includes nested more than {MaxIncludeDepth} deep (a cycle?)");
                    continue;
                }
                if (!File.Exists(file))
                {
                    errors.Add($"{origin}: line {t.Line}: include \"{t.Value}\": no such file ({file})");
                    continue;
                }
                var included = Prepare(File.ReadAllText(file), file, Path.GetDirectoryName(file)!, env, errors, depth + 1);
                sb.Append('\n').Append(WithoutRootBraces(included)).Append('\n');
                continue;
            }
            if (doc is not null && ConfigTree.Get(doc, t.Value) is not null)
            {
                sb.Append(text, at, t.End - at); // a key of the document: Akka resolves it
                at = t.End;
                continue;
            }
            var value = env(t.Value);
            if (value is not null)
            {
                sb.Append(text, at, t.Start - at).Append(Quote(value));
                at = t.End;
                continue;
            }
            if (!t.Optional)
            {
                errors.Add($"{origin}: line {t.Line}: ${{{t.Value}}}: not a key of the configuration and not set in the environment " +
                           $"(${{?{t.Value}}} would leave the key at its default)");
                sb.Append(text, at, t.Start - at).Append("null");
                at = t.End;
                continue;
            }
            // ${?X} unset: "key = ${?X}" sets nothing; elsewhere (a concatenation, an array) it is nothing.
            int keyStart = FieldStart(text, t.Start);
            if (keyStart >= at)
            {
                sb.Append(text, at, keyStart - at);
            }
            else sb.Append(text, at, t.Start - at);
            at = t.End;
        }
        sb.Append(text, at, text.Length - at);
        return sb.ToString();
    }

    /// <summary>
    /// Balance of braces and brackets (outside strings and comments) with the lines they open on, includes at the
    /// start of a field and substitutions outside quoted strings. Null when the text does not balance (errors added).
    /// </summary>
    private static List<Token>? Scan(string text, string origin, List<string> errors)
    {
        var tokens = new List<Token>();
        var open = new Stack<(char C, int Line)>();
        int line = 1;
        bool fieldStart = true; // where a field (or an include) may begin
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n': line++; fieldStart = true; continue;
                case ' ' or '\t' or '\r': continue;
                case '#':
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                    continue;
                case '"' when string.CompareOrdinal(text, i, "\"\"\"", 0, 3) == 0:
                {
                    int end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0) { errors.Add($"{origin}: line {line}: a \"\"\" string is never closed"); return null; }
                    line += Count(text, i, end, '\n');
                    i = end + 2;
                    fieldStart = false;
                    continue;
                }
                case '"':
                {
                    int j = i + 1;
                    while (j < text.Length && text[j] != '"' && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
                    if (j >= text.Length || text[j] != '"') { errors.Add($"{origin}: line {line}: a quoted string is not closed on its line"); return null; }
                    i = j;
                    fieldStart = false;
                    continue;
                }
                case '{' or '[':
                    open.Push((c, line));
                    fieldStart = true;
                    continue;
                case '}' or ']':
                {
                    char want = c == '}' ? '{' : '[';
                    if (open.Count == 0) { errors.Add($"{origin}: line {line}: '{c}' closes nothing (unbalanced braces)"); return null; }
                    var (o, oline) = open.Pop();
                    if (o != want) { errors.Add($"{origin}: line {line}: '{c}' closes the '{o}' opened at line {oline}"); return null; }
                    fieldStart = false;
                    continue;
                }
                case ',': fieldStart = true; continue;
                case '$' when i + 1 < text.Length && text[i + 1] == '{':
                {
                    int end = text.IndexOf('}', i + 2);
                    int nl = text.IndexOf('\n', i + 2);
                    if (end < 0 || (nl >= 0 && nl < end)) { errors.Add($"{origin}: line {line}: a substitution '${{' is not closed on its line"); return null; }
                    var inner = text[(i + 2)..end].Trim();
                    bool optional = inner.StartsWith('?');
                    var path = (optional ? inner[1..] : inner).Trim();
                    if (path.Length == 0) { errors.Add($"{origin}: line {line}: an empty substitution '{text[i..(end + 1)]}'"); return null; }
                    tokens.Add(new Token(Kind.Substitution, i, end + 1, line, path, optional));
                    i = end;
                    fieldStart = false;
                    continue;
                }
                case 'i' when fieldStart && IncludeRegex().Match(text, i) is { Success: true } m:
                    tokens.Add(new Token(Kind.Include, i, i + m.Length, line, m.Groups[1].Value, false));
                    i += m.Length - 1;
                    fieldStart = false;
                    continue;
                default:
                    fieldStart = false;
                    continue;
            }
        }
        if (open.Count > 0)
        {
            var (o, oline) = open.Peek();
            errors.Add($"{origin}: line {oline}: '{o}' is never closed (unbalanced braces: {open.Count} still open at the end, line {line})");
            return null;
        }
        return tokens;
    }

    private static int Count(string s, int from, int to, char c)
    {
        int n = 0;
        for (int i = from; i < to; i++) if (s[i] == c) n++;
        return n;
    }

    /// <summary>Where "key = " before a value at <paramref name="valueStart"/> begins, or -1 when the value is not a field's whole value.</summary>
    private static int FieldStart(string text, int valueStart)
    {
        int i = valueStart - 1;
        while (i >= 0 && text[i] is ' ' or '\t') i--;
        if (i < 0 || text[i] is not ('=' or ':')) return -1;
        i--;
        while (i >= 0 && text[i] is ' ' or '\t') i--;
        int end = i;
        while (i >= 0 && !char.IsWhiteSpace(text[i]) && text[i] is not ('{' or '}' or ',' or '[' or ']')) i--;
        return i < end ? i + 1 : -1;
    }

    /// <summary>A file that is one object in braces is included as its fields.</summary>
    private static string WithoutRootBraces(string text)
    {
        var t = text.Trim();
        return t.StartsWith('{') && t.EndsWith('}') && MatchingClose(t) == t.Length - 1 ? t[1..^1] : text;
    }

    private static int MatchingClose(string t)
    {
        int depth = 0;
        bool inString = false;
        for (int i = 0; i < t.Length; i++)
        {
            char c = t[i];
            if (inString) { if (c == '\\') i++; else if (c == '"') inString = false; continue; }
            if (c == '"') inString = true;
            else if (c == '#') { while (i + 1 < t.Length && t[i + 1] != '\n') i++; }
            else if (c == '{') depth++;
            else if (c == '}' && --depth == 0) return i;
        }
        return -1;
    }

    /// <summary>A HOCON quoted string of <paramref name="s"/>.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ') sb.Append($"\\u{(int)c:x4}"); else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
