using ActorStack.Testing;

namespace ActorStack.Tests.EndToEnd;

/// <summary>
/// The repository's example scenario files (examples/*.hocon) as the test kit's <see cref="Scenario"/>s: run with
/// <see cref="StackKit.Start(Scenario, StackKitOptions?)"/> as the CLI's <c>run</c> would, on virtual time.
/// </summary>
public static class ExampleScenarios
{
    /// <summary>The scenario in <paramref name="relative"/> (a path from the repository root), with <paramref name="overlay"/> merged over it.</summary>
    public static Scenario Load(string relative, string overlay = "") => Scenario.FromFile(RepoFile(relative)).With(overlay);

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActorStack.sln"))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException(relative);
    }
}
