using ActorStack.Config;

namespace ActorStack.Tests.Experiments;

/// <summary>
/// The user's HOCON before Akka's parser: <c>${?VAR}</c> / <c>${VAR}</c> from the environment, <c>include</c> next to
/// the scenario, unbalanced braces refused with their line (issue 15).
/// </summary>
public class ConfigTextTests
{
    private const string Hosts = """
        actorstack.scenario {
          hosts {
            a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
            b { devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"] } } }
          }
          wires = [ { a = "a/eth0", b = "b/eth0", delay = 1ms } ]
        }
        """;

    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "actorstack-cfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void OptionalSubstitution_FromTheEnvironment_SetsTheKey()
    {
        var name = "ACTORSTACK_TEST_SEED_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "77");
        try
        {
            var s = StackConfig.Load($"actorstack.seed = ${{?{name}}}\n" + Hosts);
            Assert.Equal(77, s.Seed);
        }
        finally { Environment.SetEnvironmentVariable(name, null); }
    }

    [Fact]
    public void OptionalSubstitution_Unset_LeavesTheDefault()
    {
        var def = StackConfig.Load().Seed;
        var s = StackConfig.Load("actorstack.seed = ${?ACTORSTACK_TEST_NEVER_SET_X}\n" + Hosts);
        Assert.Equal(def, s.Seed);
        Assert.Equal(2, s.Hosts.Length); // the rest of the file is read as before
    }

    [Fact]
    public void Prepare_UnsetOptional_RemovesOnlyItsField()
    {
        var t = ConfigText.Prepare("a {\n  x = ${?NOPE}\n  y = 2\n}\n", "t", env: _ => null);
        Assert.Equal("a {\n  \n  y = 2\n}\n", t);
    }

    [Fact]
    public void Prepare_EnvironmentValue_IsQuoted()
    {
        var t = ConfigText.Prepare("a = ${V}, b = \"${V}\"", "t", env: n => n == "V" ? "x \"y\"" : null);
        Assert.Equal("a = \"x \\\"y\\\"\", b = \"${V}\"", t); // inside a quoted string it is text, as HOCON says
    }

    [Fact]
    public void RequiredSubstitution_Unresolvable_IsAClearError()
    {
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load("actorstack.seed = ${ACTORSTACK_TEST_NEVER_SET_Y}\n" + Hosts, "exp.hocon"));
        Assert.Equal("exp.hocon: line 1: ${ACTORSTACK_TEST_NEVER_SET_Y}: not a key of the configuration and not set in the environment " +
                     "(${?ACTORSTACK_TEST_NEVER_SET_Y} would leave the key at its default)", Assert.Single(e.Errors));
    }

    [Fact]
    public void Substitution_OfAKeyOfTheDocument_IsLeftToHocon()
    {
        var s = StackConfig.Load("base = 41\nactorstack.seed = ${base}\n" + Hosts.Replace("actorstack.scenario", "actorstack.scenario"));
        Assert.Equal(41, s.Seed);
    }

    [Fact]
    public void Include_NextToTheScenario_IsRead()
    {
        var dir = TempDir();
        try
        {
            File.WriteAllText(Path.Combine(dir, "hosts.hocon"), Hosts);
            File.WriteAllText(Path.Combine(dir, "tunables.hocon"), "{ actorstack.sysctl.net.core.dev_weight = 16 }");
            var scenario = Path.Combine(dir, "exp.hocon");
            File.WriteAllText(scenario, "include \"hosts.hocon\"\ninclude file(\"tunables.hocon\")\nactorstack.seed = 5\n");
            var cwd = Directory.GetCurrentDirectory();
            var s = StackConfig.LoadFile(scenario); // relative to the scenario's directory, not the current one
            Assert.NotEqual(dir, cwd);
            Assert.Equal(5, s.Seed);
            Assert.Equal(["a", "b"], s.Hosts.Select(h => h.Name).Order());
            Assert.Equal(16, s.Host("a").Sysctl.DevWeight);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Include_Missing_NamesTheFile()
    {
        var dir = TempDir();
        try
        {
            var scenario = Path.Combine(dir, "exp.hocon");
            File.WriteAllText(scenario, "actorstack.seed = 5\ninclude \"nothere.hocon\"\n");
            var e = Assert.Throws<StackConfigException>(() => StackConfig.LoadFile(scenario));
            Assert.Equal($"{scenario}: line 2: include \"nothere.hocon\": no such file ({Path.Combine(dir, "nothere.hocon")})", Assert.Single(e.Errors));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Include_Cycle_IsRefused()
    {
        var dir = TempDir();
        try
        {
            var scenario = Path.Combine(dir, "loop.hocon");
            File.WriteAllText(scenario, "include \"loop.hocon\"\n");
            var e = Assert.Throws<StackConfigException>(() => StackConfig.LoadFile(scenario));
            Assert.Contains($"include \"loop.hocon\": includes nested more than {ConfigText.MaxIncludeDepth} deep (a cycle?)", Assert.Single(e.Errors));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MissingClosingBraces_AreRefusedWithTheLine()
    {
        var text = Hosts.TrimEnd().TrimEnd('}'); // the scenario's block never closes
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(text, "exp.hocon"));
        Assert.Equal("exp.hocon: line 1: '{' is never closed (unbalanced braces: 1 still open at the end, line 7)", Assert.Single(e.Errors));
    }

    [Fact]
    public void ExtraClosingBrace_AndMismatch_AreRefusedWithTheLine()
    {
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load("a {\n b = 1\n}\n}\n", "x"));
        Assert.Equal("x: line 4: '}' closes nothing (unbalanced braces)", Assert.Single(e.Errors));
        e = Assert.Throws<StackConfigException>(() => StackConfig.Load("a {\n b = [1, 2}\n", "x"));
        Assert.Equal("x: line 2: '}' closes the '[' opened at line 2", Assert.Single(e.Errors));
    }

    [Fact]
    public void BracesInStringsAndComments_DoNotCount()
    {
        var t = "# a { comment\n// another {\nactorstack.seed = 3 // }\nactorstack.trace = \"off\" # \"{\"\n" + Hosts;
        Assert.Equal(3, StackConfig.Load(t).Seed);
    }
}
