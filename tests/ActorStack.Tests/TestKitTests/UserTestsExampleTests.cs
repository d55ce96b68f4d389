using System.Xml.Linq;

namespace ActorStack.Tests.TestKitTests;

/// <summary>
/// examples/UserTests stays what the README says it is: its test files quoted verbatim in "Testing your own code against
/// the stack", its package references by the version the repository packs, and a build of its own (not in the solution).
/// </summary>
public class UserTestsExampleTests
{
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActorStack.sln"))) return dir.FullName;
        throw new InvalidOperationException("no ActorStack.sln above the test binaries");
    }

    [Fact]
    public void README_quotes_the_example_test_files_verbatim()
    {
        var root = Root();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        Assert.Contains("## Testing your own code against the stack", readme);
        foreach (var file in new[] { "UdpServiceTests.cs", "RaceTests.cs" })
        {
            var example = File.ReadAllText(Path.Combine(root, "examples", "UserTests", file));
            Assert.Contains("```csharp\n" + example + "```", readme);
        }
    }

    [Fact]
    public void Example_references_the_kit_by_the_packed_version_and_is_not_in_the_solution()
    {
        var root = Root();
        string version = XDocument.Load(Path.Combine(root, "Directory.Build.props")).Descendants("Version").Single().Value;
        var refs = XDocument.Load(Path.Combine(root, "examples", "UserTests", "UserTests.csproj")).Descendants("PackageReference")
            .ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")?.Value);
        Assert.Equal(version, refs["ActorStack.TestKit"]);
        Assert.DoesNotContain("UserTests", File.ReadAllText(Path.Combine(root, "ActorStack.sln")));
        Assert.Contains("dotnet test examples/UserTests", File.ReadAllText(Path.Combine(root, ".ci", "run")));
    }
}
