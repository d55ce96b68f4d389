using System.Globalization;
using System.Text;

namespace ActorStack.Actors.Engine;

/// <summary>
/// A schedule trace: which option was taken at every decision with two or more options, and a header saying what it is
/// a trace of. <see cref="ScheduleExplorer.Replay(string, Action{ExplorationContext}, ExploreOptions?)"/> feeds it back.
/// <para>
/// The file is text, one item a line:
/// <code>
/// actorstack-schedule-trace 1
/// strategy pct
/// seed 7
/// iteration 12
/// build 5d0c…            (the ModuleVersionId of ActorStack.Actors: another build, another id)
/// scenario race-v1       (what the caller passed as ExploreOptions.Scenario)
/// failure System.InvalidOperationException: Data before Init
/// choices 3
/// E 1/3 0                (level, chosen/options, virtual time in ns)
/// M 0/2 250000
/// E 2/2 250000
/// </code>
/// </para>
/// </summary>
public sealed record ScheduleTrace(string Strategy, int Seed, int Iteration, string Build, string Scenario, string Failure,
    IReadOnlyList<ScheduleChoice> Choices)
{
    private const string Magic = "actorstack-schedule-trace 1";

    /// <summary>This build's id: the ModuleVersionId of the ActorStack.Actors assembly (changes with any change to the code).</summary>
    public static string CurrentBuild { get; } = typeof(SimEngine).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    /// <summary>
    /// A scenario name for <see cref="ExploreOptions.Scenario"/> from the scenario's text (HOCON, a test's source):
    /// the first 16 hex digits of its SHA-256, so a trace is refused once the scenario changes.
    /// </summary>
    public static string ScenarioHash(string text)
        => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    /// <summary>Writes the trace to <paramref name="path"/> (creating its directory).</summary>
    public void Write(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var b = new StringBuilder();
        b.Append(Magic).Append('\n');
        b.Append("strategy ").Append(Strategy).Append('\n');
        b.Append("seed ").Append(Seed.ToString(CultureInfo.InvariantCulture)).Append('\n');
        b.Append("iteration ").Append(Iteration.ToString(CultureInfo.InvariantCulture)).Append('\n');
        b.Append("build ").Append(Build).Append('\n');
        b.Append("scenario ").Append(OneLine(Scenario)).Append('\n');
        b.Append("failure ").Append(OneLine(Failure)).Append('\n');
        b.Append("choices ").Append(Choices.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var c in Choices)
            b.Append((char)c.Kind).Append(' ').Append(c.Chosen.ToString(CultureInfo.InvariantCulture)).Append('/')
             .Append(c.Options.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(c.TimeNs.ToString(CultureInfo.InvariantCulture)).Append('\n');
        File.WriteAllText(path, b.ToString());
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    /// <summary>Reads a trace file; anything that is not one is refused with a <see cref="ScheduleTraceException"/> naming the line.</summary>
    public static ScheduleTrace Read(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScheduleTraceException($"schedule trace {path}: cannot be read: {e.Message}");
        }
        if (lines.Length == 0 || lines[0] != Magic)
            throw new ScheduleTraceException($"schedule trace {path}: line 1 is not \"{Magic}\": not a schedule trace (or of another format version)");
        int li = 1;
        string Field(string name)
        {
            if (li >= lines.Length) throw new ScheduleTraceException($"schedule trace {path}: ends before the \"{name}\" line");
            var l = lines[li++];
            if (!l.StartsWith(name + " ", StringComparison.Ordinal) && l != name)
                throw new ScheduleTraceException($"schedule trace {path}: line {li} should be \"{name} …\", is \"{Clip(l)}\"");
            return l.Length > name.Length ? l[(name.Length + 1)..] : "";
        }
        int Int(string name)
        {
            var v = Field(name);
            return int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= (name == "seed" ? int.MinValue : 0)
                ? n : throw new ScheduleTraceException($"schedule trace {path}: line {li}: {name} \"{Clip(v)}\" is not a number");
        }
        var strategy = Field("strategy");
        int seed = Int("seed");
        int iteration = Int("iteration");
        var build = Field("build");
        var scenario = Field("scenario");
        var failure = Field("failure");
        int count = Int("choices");
        if (lines.Length - li < count)
            throw new ScheduleTraceException($"schedule trace {path}: announces {count} choices, has {lines.Length - li} lines of them");
        var choices = new ScheduleChoice[count];
        for (int i = 0; i < count; i++, li++)
        {
            var l = lines[li];
            var parts = l.Split(' ');
            var co = parts.Length == 3 ? parts[1].Split('/') : [];
            if (parts.Length != 3 || parts[0] is not ("E" or "M") || co.Length != 2
                || !int.TryParse(co[0], NumberStyles.None, CultureInfo.InvariantCulture, out int chosen)
                || !int.TryParse(co[1], NumberStyles.None, CultureInfo.InvariantCulture, out int options)
                || options < 2 || chosen >= options
                || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long t))
                throw new ScheduleTraceException($"schedule trace {path}: line {li + 1} (choice {i}) is not \"E|M chosen/options time-ns\": \"{Clip(l)}\"");
            choices[i] = new ScheduleChoice((ScheduleChoiceKind)parts[0][0], chosen, options, t);
        }
        return new ScheduleTrace(strategy, seed, iteration, build, scenario, failure, choices);
    }

    private static string Clip(string s) => s.Length <= 60 ? s : s[..60] + "…";

    /// <summary>
    /// Refuses (a <see cref="ScheduleTraceException"/>) a trace recorded by another build or for another scenario than
    /// <paramref name="scenario"/>: its choices would not mean the same events.
    /// </summary>
    public void CheckCompatible(string scenario, string? origin = null)
    {
        var what = origin is null ? "schedule trace" : $"schedule trace {origin}";
        if (Build != CurrentBuild)
            throw new ScheduleTraceException(
                $"{what} was recorded by another build of ActorStack.Actors (build {Build}, this is {CurrentBuild}): its choices do not replay here; explore again with this build");
        if (Scenario != OneLine(scenario))
            throw new ScheduleTraceException(
                $"{what} was recorded for scenario \"{Scenario}\", this is \"{OneLine(scenario)}\": its choices do not replay here");
    }
}

/// <summary>A schedule trace file refused: unreadable, malformed, or from another build or scenario.</summary>
public sealed class ScheduleTraceException(string message) : Exception(message);
