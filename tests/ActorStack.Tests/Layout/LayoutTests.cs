using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ActorStack.Tests.Layout;

/// <summary>
/// The product's layers depend one way only: Messages ← Config ← Hardware ← Actors ← Cli (a project may use any
/// layer below it, never one above). Checked twice: in each csproj's ProjectReference items, and in the compiled
/// assemblies' references (which also catch a reference that arrives some other way). bench/ and tests/ may use
/// anything. And no actor code guards state with a lock: actors share messages and immutable snapshots only.
/// </summary>
public sealed class LayoutTests
{
    /// <summary>Each product project (folder, csproj, assembly) with the product assemblies it may reference.</summary>
    private static readonly (string Folder, string Project, string Assembly, string[] MayUse)[] Layers =
    [
        ("Messages", "ActorStack.Messages", "ActorStack.Messages", []),
        ("Config", "ActorStack.Config", "ActorStack.Config", ["ActorStack.Messages"]),
        ("Hardware", "ActorStack.Hardware", "ActorStack.Hardware", ["ActorStack.Config", "ActorStack.Messages"]),
        ("Actors", "ActorStack.Actors", "ActorStack.Actors", ["ActorStack.Hardware", "ActorStack.Config", "ActorStack.Messages"]),
        ("Cli", "ActorStack.Cli", "actorstack", ["ActorStack.Actors", "ActorStack.Hardware", "ActorStack.Config", "ActorStack.Messages"]),
    ];

    private static readonly HashSet<string> ProductAssemblies = Layers.Select(l => l.Assembly).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The repository's root: the nearest folder above the test binaries that holds ActorStack.sln.</summary>
    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActorStack.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no ActorStack.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The project names (file names without .csproj) a csproj's ProjectReference items point at.</summary>
    internal static IReadOnlyList<string> ProjectReferences(string csprojPath)
        => XDocument.Load(csprojPath).Descendants()
            .Where(e => e.Name.LocalName == "ProjectReference")
            .Select(e => (string?)e.Attribute("Include") ?? "")
            .Select(p => Path.GetFileNameWithoutExtension(p.Replace('\\', '/')))
            .ToList();

    /// <summary>The references of <paramref name="found"/> that the layer does not allow, as "from -> to".</summary>
    internal static IEnumerable<string> Violations(string from, IEnumerable<string> found, IEnumerable<string> allowed)
    {
        var ok = allowed.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return found.Where(r => !ok.Contains(r)).Select(r => $"{from} -> {r}");
    }

    [Fact]
    public void Every_product_project_references_only_the_layers_below_it()
    {
        var root = RepoRoot();
        var bad = new List<string>();
        foreach (var (folder, project, _, mayUse) in Layers)
        {
            var path = Path.Combine(root, folder, project + ".csproj");
            Assert.True(File.Exists(path), $"{path} is missing");
            var refs = ProjectReferences(path);
            // A project reference is to another ActorStack project: name it by its project file.
            bad.AddRange(Violations(project, refs, mayUse.Select(a => a == "actorstack" ? "ActorStack.Cli" : a)));
        }
        Assert.Empty(bad);
        // The chain is whole: each layer above Messages builds on the one right below it.
        Assert.Equal(["ActorStack.Messages"], ProjectReferences(Path.Combine(root, "Config", "ActorStack.Config.csproj")));
        Assert.Equal(["ActorStack.Config"], ProjectReferences(Path.Combine(root, "Hardware", "ActorStack.Hardware.csproj")));
        Assert.Equal(["ActorStack.Hardware"], ProjectReferences(Path.Combine(root, "Actors", "ActorStack.Actors.csproj")));
        Assert.Equal(["ActorStack.Actors"], ProjectReferences(Path.Combine(root, "Cli", "ActorStack.Cli.csproj")));
    }

    [Fact]
    public void Every_product_assembly_references_only_the_layers_below_it()
    {
        var bad = new List<string>();
        foreach (var (_, _, assembly, mayUse) in Layers)
        {
            var asm = Assembly.Load(new AssemblyName(assembly));
            var product = asm.GetReferencedAssemblies().Select(a => a.Name!).Where(ProductAssemblies.Contains);
            bad.AddRange(Violations(assembly, product, mayUse));
        }
        Assert.Empty(bad);
        // The compiled chain really uses the layer below (a check of nothing would pass too).
        Assert.Contains("ActorStack.Messages", Assembly.Load("ActorStack.Config").GetReferencedAssemblies().Select(a => a.Name));
        Assert.Contains("ActorStack.Hardware", Assembly.Load("ActorStack.Actors").GetReferencedAssemblies().Select(a => a.Name));
        Assert.Contains("ActorStack.Actors", Assembly.Load("actorstack").GetReferencedAssemblies().Select(a => a.Name));
    }

    [Fact]
    public void The_checks_see_a_reference_that_points_the_wrong_way()
    {
        var dir = Directory.CreateTempSubdirectory("layout-");
        try
        {
            var csproj = Path.Combine(dir.FullName, "ActorStack.Hardware.csproj");
            File.WriteAllText(csproj, """
                <Project Sdk="Microsoft.NET.Sdk">
                  <ItemGroup>
                    <ProjectReference Include="..\Config\ActorStack.Config.csproj" />
                    <ProjectReference Include="..\Actors\ActorStack.Actors.csproj" />
                  </ItemGroup>
                </Project>
                """);
            var hardware = Layers.Single(l => l.Project == "ActorStack.Hardware");
            Assert.Equal(["ActorStack.Hardware -> ActorStack.Actors"],
                Violations(hardware.Project, ProjectReferences(csproj), hardware.MayUse));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// No <c>lock (</c> in the actors' code: an actor's state is its own, answered by message or published as an
    /// immutable snapshot (Volatile.Read/Write, RCU-style); per-namespace MIB counters are atomics.
    /// </summary>
    [Fact]
    public void No_actor_code_takes_a_lock()
    {
        var actors = Path.Combine(RepoRoot(), "Actors");
        // The one exemption: the simulation engine (Actors/Engine) is the dispatcher and scheduler under the actors,
        // not an actor. Tells from any thread (a test, the CLI, Akka's own threads) reach its event queue, so it
        // guards that queue itself, as Akka's own dispatchers do; no actor state is behind it.
        var hits = LockSites(actors).Where(h => !h.StartsWith("Engine" + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToList();
        Assert.True(hits.Count == 0, "locks in Actors/:\n" + string.Join("\n", hits));
        Assert.NotEmpty(LockSites(Path.Combine(actors, "Engine"))); // the search sees the engine's gates
    }

    /// <summary>
    /// Hardware/ holds device models only (rings, IRQ lines, RSS, the wire medium and netem, TAP, pcap, pktgen);
    /// kernel subsystems (link watch, qdiscs, RPS, GSO, the bridge) live with their actors.
    /// </summary>
    [Fact]
    public void Hardware_holds_device_models_only()
    {
        string[] devices = ["Nic", "Netem", "Tap", "Capture", "Pktgen"];
        var namespaces = Assembly.Load("ActorStack.Hardware").GetExportedTypes().Select(t => t.Namespace!).Distinct().Order().ToArray();
        Assert.Equal(devices.Select(d => "ActorStack.Hardware." + d).Order(), namespaces);
    }

    /// <summary>Every settings record (a type named *Settings) is in Config/, and there is one of each name.</summary>
    [Fact]
    public void Every_settings_record_lives_in_Config()
    {
        var settings = Layers.Select(l => Assembly.Load(l.Assembly)).SelectMany(a => a.GetExportedTypes())
            .Where(t => t.Name.EndsWith("Settings", StringComparison.Ordinal)).ToList();
        Assert.Empty(settings.Where(t => t.Assembly.GetName().Name != "ActorStack.Config").Select(t => t.FullName));
        Assert.Empty(settings.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key));
        Assert.Contains(settings, t => t.Name == "TcpSettings"); // the search sees them
    }

    /// <summary>
    /// Every message record is in Messages/: the Actors assembly exports no record class but the results of its
    /// pure logic (returned by a method, never told to an actor), the schedule explorer's options and results, and
    /// <c>TcpSpawnChild</c>, which hands a live TCB
    /// from a listener to the TCP actor of the same host and so never crosses a node.
    /// </summary>
    [Fact]
    public void Every_message_record_lives_in_Messages()
    {
        string[] pureLogicValues =
        [
            "ArpResult`1", "FragmentResult", "DefragCounters", "ExpiredQueue", "PtypeTable", "NeighCacheEntry",
            "LinkSnapshot", "TcpSocketOptions", "UdpBinding", "TcpSpawnChild",
            // The schedule explorer's options and results (Actors/Engine: a test harness's API, never told to an actor).
            "ExploreOptions", "ExplorationResult", "ExplorationFailure", "ReplayResult", "ExhaustiveResult", "ScheduleTrace",
            "CrossWire", "ClusterRunResult", // Actors/Cluster: a placement's cut wire and a distributed run's result, returned
            "ClusterReport", // Actors/Cluster: the partitions' reports merged, part of ClusterRunResult
        ];
        var records = Assembly.Load("ActorStack.Actors").GetExportedTypes()
            .Where(t => t.IsClass && t.GetMethod("<Clone>$") is not null).Select(t => t.Name).Order().ToArray();
        Assert.Equal(pureLogicValues.Order(), records);
        Assert.Contains(Assembly.Load("ActorStack.Messages").GetExportedTypes(), t => t.Name == "TcpDeliver");
    }

    [Fact]
    public void The_lock_search_finds_a_lock_and_ignores_comments_and_build_output()
    {
        var dir = Directory.CreateTempSubdirectory("locks-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "Tcp"));
            Directory.CreateDirectory(Path.Combine(dir.FullName, "obj"));
            File.WriteAllText(Path.Combine(dir.FullName, "Tcp", "Table.cs"), "class T {\n    // no lock (here) in a comment\n    void F() { lock (_gate) { } }\n}\n");
            File.WriteAllText(Path.Combine(dir.FullName, "obj", "Gen.cs"), "class G { void F() { lock (this) { } } }\n");
            Assert.Equal([Path.Combine("Tcp", "Table.cs") + ":3"], LockSites(dir.FullName).ToArray());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>A lock statement, a <see cref="System.Threading.Lock"/> (its scopes or Enter), a Monitor, or the engine's spin gate.</summary>
    private static readonly Regex LockStatement = new(@"\block\s*\(|\bnew\s+Lock\s*\(|\.EnterScope\s*\(|\bMonitor\.(Enter|TryEnter)\b|\bSpinGate\.Hold\s*\(", RegexOptions.Compiled);

    /// <summary>"file:line" of each lock (see <see cref="LockStatement"/>) in the .cs files under <paramref name="root"/> (bin/obj skipped).</summary>
    internal static IEnumerable<string> LockSites(string root)
    {
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(root, file);
            var top = rel.Split(Path.DirectorySeparatorChar)[0];
            if (top is "bin" or "obj") continue;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var code = lines[i];
                int comment = code.IndexOf("//", StringComparison.Ordinal);
                if (comment >= 0) code = code[..comment];
                if (LockStatement.IsMatch(code)) yield return $"{rel}:{i + 1}";
            }
        }
    }
}
