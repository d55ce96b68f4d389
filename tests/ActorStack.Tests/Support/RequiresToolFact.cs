namespace ActorStack.Tests.Support;

/// <summary>
/// A <see cref="FactAttribute"/> that skips its test when an external tool is not on PATH
/// (xunit 2 has no dynamic skip, so the decision is made when the attribute is created).
/// </summary>
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(string tool)
    {
        Tool = tool;
        if (FindOnPath(tool) is null)
            Skip = $"{tool} not installed: run .ci/run, which installs it";
    }

    public string Tool { get; }

    /// <summary>Full path of <paramref name="tool"/> in the first PATH directory that has it, or null.</summary>
    public static string? FindOnPath(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        string[] suffixes = OperatingSystem.IsWindows() ? [".exe", ".cmd", ".bat", ""] : [""];
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var suffix in suffixes)
            {
                var candidate = Path.Combine(dir, tool + suffix);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
