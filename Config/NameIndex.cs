using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ActorStack.Config;

/// <summary>
/// Hosts and switches by name, built once per array and kept beside it (a weak table on the array, so the settings
/// records keep their value equality and <c>with</c> copies never carry a stale index): a lookup that was a scan of every
/// host made loading a scenario quadratic in its hosts (each wire end, workload and cluster lookahead scanned them all:
/// 200,000 hosts did not load in minutes). The first of two equal names wins, as the scans did.
/// </summary>
internal static class NameIndex
{
    private static readonly ConditionalWeakTable<HostSettings[], Dictionary<string, HostSettings>> Hosts = new();
    private static readonly ConditionalWeakTable<SwitchSettings[], Dictionary<string, SwitchSettings>> Switches = new();

    public static HostSettings? Find(ImmutableArray<HostSettings> hosts, string? name)
        => name is null || hosts.IsDefaultOrEmpty ? null : Index(Hosts, hosts, h => h.Name).GetValueOrDefault(name);

    public static SwitchSettings? Find(ImmutableArray<SwitchSettings> switches, string? name)
        => name is null || switches.IsDefaultOrEmpty ? null : Index(Switches, switches, w => w.Name).GetValueOrDefault(name);

    private static Dictionary<string, T> Index<T>(ConditionalWeakTable<T[], Dictionary<string, T>> table, ImmutableArray<T> items, Func<T, string> name)
        => table.GetValue(ImmutableCollectionsMarshal.AsArray(items)!, a =>
        {
            var d = new Dictionary<string, T>(a.Length, StringComparer.Ordinal);
            foreach (var x in a) d.TryAdd(name(x), x);
            return d;
        });
}
