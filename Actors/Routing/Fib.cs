using System.Collections.Immutable;
using System.Text;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Routing;

/// <summary>Route types (<c>RTN_*</c>, include/uapi/linux/rtnetlink.h), with Linux's numeric values.</summary>
public enum RouteType : byte
{
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
}

/// <summary>Route scopes (<c>RT_SCOPE_*</c>): larger means closer to the host.</summary>
public enum RouteScope : byte
{
    Universe = 0,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

/// <summary>Who installed a route (<c>RTPROT_*</c>).</summary>
public enum RouteProtocol : byte
{
    Kernel = 2,
    Boot = 3,
    Static = 4,
}

/// <summary>Routing tables that the default rules consult (<c>RT_TABLE_*</c>).</summary>
public enum RouteTable
{
    Main = 254,
    Local = 255,
}

/// <summary>
/// One FIB alias with its single next hop (<c>struct fib_alias</c> + <c>struct fib_info</c> + <c>struct fib_nh</c>).
/// Immutable: a change of the next hop's <c>RTNH_F_LINKDOWN</c> flag (the device's carrier) replaces the alias
/// with a copy, so a published <see cref="FibTable"/> never changes under its readers.
/// </summary>
public sealed class FibRoute
{
    public required Ipv4Address Network { get; init; }
    public required int PrefixLength { get; init; }
    public required RouteType Type { get; init; }
    public Ipv4Address? Gateway { get; init; }
    /// <summary>Output device; null only for the error types (unreachable, blackhole, prohibit).</summary>
    public string? Device { get; init; }
    /// <summary><c>fib_priority</c>, shown as <c>metric</c>; lower wins.</summary>
    public int Metric { get; init; }
    public RouteScope Scope { get; init; }
    public RouteProtocol Protocol { get; init; } = RouteProtocol.Boot;
    /// <summary>Preferred source (<c>fib_prefsrc</c>, shown as <c>src</c>).</summary>
    public Ipv4Address? PrefSrc { get; init; }
    public RouteTable Table { get; init; } = RouteTable.Main;
    /// <summary><c>RTNH_F_LINKDOWN</c>: the device has no carrier (set by <c>fib_sync_down_dev(NETDEV_CHANGE)</c>).</summary>
    public bool LinkDown { get; init; }
    internal long Seq { get; init; }

    /// <summary>This alias with <see cref="LinkDown"/> set to <paramref name="down"/>.</summary>
    internal FibRoute WithLinkDown(bool down) => down == LinkDown ? this : new()
    {
        Network = Network, PrefixLength = PrefixLength, Type = Type, Gateway = Gateway, Device = Device, Metric = Metric,
        Scope = Scope, Protocol = Protocol, PrefSrc = PrefSrc, Table = Table, Seq = Seq, LinkDown = down,
    };

    public Ipv4Prefix Prefix => new(Network, PrefixLength);

    /// <summary>
    /// The error <c>fib_props[type].error</c> assigns to the route type: lookups that hit such a route fail with it.
    /// </summary>
    public Errno Error => Type switch
    {
        RouteType.Unreachable => Errno.EHOSTUNREACH,
        RouteType.Prohibit => Errno.EACCES,
        RouteType.Blackhole => Errno.EINVAL,
        _ => Errno.OK,
    };

    /// <summary>One line as iproute2's <c>print_route</c> prints it (without the trailing blank and newline).</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        if (Type != RouteType.Unicast) sb.Append(TypeName(Type)).Append(' ');
        if (PrefixLength == 0) sb.Append("default");
        else if (PrefixLength == 32) sb.Append(Network);
        else sb.Append(Network).Append('/').Append(PrefixLength);
        if (Gateway is { } gw) sb.Append(" via ").Append(gw);
        if (Device is not null) sb.Append(" dev ").Append(Device);
        if (Protocol != RouteProtocol.Boot) sb.Append(" proto ").Append(ProtocolName(Protocol));
        if (Scope != RouteScope.Universe) sb.Append(" scope ").Append(ScopeName(Scope));
        if (PrefSrc is { } src) sb.Append(" src ").Append(src);
        if (Metric != 0) sb.Append(" metric ").Append(Metric);
        if (LinkDown) sb.Append(" linkdown");
        return sb.ToString();
    }

    public override string ToString() => Format();

    public static string TypeName(RouteType t) => t switch
    {
        RouteType.Unicast => "unicast",
        RouteType.Local => "local",
        RouteType.Broadcast => "broadcast",
        RouteType.Blackhole => "blackhole",
        RouteType.Unreachable => "unreachable",
        RouteType.Prohibit => "prohibit",
        _ => ((int)t).ToString(),
    };

    public static string ScopeName(RouteScope s) => s switch
    {
        RouteScope.Universe => "global",
        RouteScope.Link => "link",
        RouteScope.Host => "host",
        RouteScope.Nowhere => "nowhere",
        _ => ((int)s).ToString(),
    };

    public static string ProtocolName(RouteProtocol p) => p switch
    {
        RouteProtocol.Kernel => "kernel",
        RouteProtocol.Boot => "boot",
        RouteProtocol.Static => "static",
        _ => ((int)p).ToString(),
    };
}

/// <summary>
/// Result of <see cref="Fib.Lookup"/> (<c>struct fib_result</c>): either a route, or the errno the lookup
/// gives the caller (<c>ENETUNREACH</c> when nothing matched, the route type's error for an error route).
/// </summary>
public readonly record struct FibResult(Errno Error, FibRoute? Route, Ipv4Address NextHop)
{
    public bool Ok => Error == Errno.OK;
    public RouteType Type => Route?.Type ?? RouteType.Unreachable;
    public string? Device => Route?.Device;
    public Ipv4Address? PrefSrc => Route?.PrefSrc;
    public RouteTable Table => Route?.Table ?? RouteTable.Main;

    public override string ToString() => Ok ? $"{Route} (nexthop {NextHop})" : $"{Error}{(Route is null ? "" : $" by '{Route}'")}";
}

/// <summary>
/// Linux errno values that <see cref="Errno"/> does not name yet (asm-generic/errno-base.h). They are real
/// <see cref="Errno"/> values (cast), so callers can compare them; proposed for addition to Messages/Errno.cs.
/// </summary>

/// <summary>Outcome of a FIB change: errno plus the extack message Linux gives (<c>ip</c> prints "Error: …").</summary>
public readonly record struct FibStatus(Errno Error, string? Message = null)
{
    public static readonly FibStatus Success = new(Errno.OK);
    public bool Ok => Error == Errno.OK;
    public override string ToString() => Ok ? "OK" : $"{Error}: {Message}";
}

/// <summary>
/// A host's IPv4 FIB with the two tables the default policy rules use: <c>local</c> (priority 0) and
/// <c>main</c> (priority 32766). Lookups follow <c>fib_lookup</c> → <c>fib_table_lookup</c>: per table the
/// longest matching prefix wins; among its aliases the lowest metric; an error-type route returns its error;
/// a table without a match passes on to the next rule; no table matching gives <c>ENETUNREACH</c>.
/// Routes through a carrier-down device stay usable (<c>ignore_routes_with_linkdown = 0</c>) but are flagged.
/// Limited broadcast (255.255.255.255) and multicast are decided by the route callers
/// (<c>ip_route_input_slow</c>, <c>ip_route_output_key_hash_rcu</c>), not by the FIB, as in Linux.
/// This is the writer's copy (the kernel changes the FIB under RTNL): one owner changes it and publishes
/// <see cref="ToTable"/>, an immutable <see cref="FibTable"/> that readers look up without a lock, RCU-style.
/// </summary>
public sealed class Fib : IFibLookup
{
    private readonly FibTables.Table _local;
    private readonly FibTables.Table _main;
    private readonly Dictionary<string, List<Ipv4Prefix>> _addresses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _devices = new(StringComparer.Ordinal);
    private readonly HashSet<string> _linkDown = new(StringComparer.Ordinal);
    private long _seq;
    private long _generation;

    /// <summary>Upper bound on routes per table; an insert beyond it fails with <c>ENOBUFS</c>.</summary>
    public int MaxRoutesPerTable { get; }

    public Fib(int maxRoutesPerTable = 1 << 20)
    {
        MaxRoutesPerTable = maxRoutesPerTable;
        (_local, _main) = (new(), new());
    }

    /// <summary>A writer's copy of a published table (<see cref="FibTable.ToBuilder"/>).</summary>
    internal Fib(FibTable t)
    {
        MaxRoutesPerTable = t.MaxRoutesPerTable;
        (_local, _main) = (t.LocalTable.Clone(), t.MainTable.Clone());
        foreach (var (dev, list) in t.Addresses) _addresses[dev] = [.. list];
        _devices.UnionWith(t.Devices);
        _linkDown.UnionWith(t.LinkDownDevices);
        (_seq, _generation) = (t.Seq, t.Generation);
    }

    /// <summary>
    /// An immutable copy of the FIB as it is now, one generation later than the last one taken (<c>rt_genid</c>
    /// moves: cached routes are looked up again).
    /// </summary>
    public FibTable ToTable() => new(_local.Clone(), _main.Clone(),
        _addresses.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray(), StringComparer.Ordinal),
        _devices.ToImmutableHashSet(StringComparer.Ordinal), _linkDown.ToImmutableHashSet(StringComparer.Ordinal),
        _seq, ++_generation, MaxRoutesPerTable);

    public int RouteCount(RouteTable table) => Get(table).Count;

    /// <summary>Makes a device known (registered and up) so that device routes may use it.</summary>
    public void RegisterDevice(string dev) => _devices.Add(dev);

    public IReadOnlyList<Ipv4Prefix> AddressesOf(string dev)
        => _addresses.TryGetValue(dev, out var l) ? l : Array.Empty<Ipv4Prefix>();

    /// <summary>
    /// Adds an address to an up device and installs its routes as <c>fib_add_ifaddr</c> does: <c>local</c> route
    /// for the address (table local, scope host), and unless the address is secondary or a /32 host address, the
    /// prefix route (table main, proto kernel, scope link; on a loopback device a <c>local</c> route in table
    /// local instead) and, below /31, the subnet broadcast route (table local). Since Linux 5.14 no broadcast
    /// route is installed for the network address itself. A second address in an existing subnet is secondary
    /// (<c>IFA_F_SECONDARY</c>): it gets only its local route, with the primary address as <c>src</c>.
    /// </summary>
    public FibStatus AddAddress(string dev, Ipv4Prefix address, bool? loopback = null)
    {
        if (address.Length is < 0 or > 32) return new(Errno.EINVAL, "Invalid prefix length");
        bool isLoopback = loopback ?? dev == "lo";
        _devices.Add(dev);
        if (!_addresses.TryGetValue(dev, out var list)) _addresses[dev] = list = new List<Ipv4Prefix>();
        if (list.Any(a => a.Address == address.Address && a.Length == address.Length))
            return new(Errno.EEXIST, "File exists");
        var primary = list.FirstOrDefault(a => a.Length == address.Length && a.Network == address.Network);
        bool secondary = list.Any(a => a.Length == address.Length && a.Network == address.Network);
        list.Add(address);
        var src = secondary ? primary.Address : address.Address;

        Insert(Kernel(RouteType.Local, address.Address, 32, dev, src, RouteTable.Local, RouteScope.Host));
        var prefix = address.Network;
        if (prefix.Value != 0 && !secondary && (prefix != address.Address || address.Length < 32))
        {
            if (isLoopback)
                Insert(Kernel(RouteType.Local, prefix, address.Length, dev, src, RouteTable.Local, RouteScope.Host));
            else
                Insert(Kernel(RouteType.Unicast, prefix, address.Length, dev, src, RouteTable.Main, RouteScope.Link));
            if (address.Length < 31)
                Insert(Kernel(RouteType.Broadcast, address.BroadcastAddress, 32, dev, src, RouteTable.Local, RouteScope.Link));
        }
        return FibStatus.Success;
    }

    /// <summary>
    /// Removes an address and the kernel routes <c>fib_del_ifaddr</c> removes with it, then flushes every route
    /// whose preferred source was that address (<c>fib_sync_down_addr</c>); when it was the device's last address,
    /// every route through the device goes too (<c>fib_disable_ip</c>). Returns <c>EADDRNOTAVAIL</c> if absent.
    /// </summary>
    public FibStatus RemoveAddress(string dev, Ipv4Prefix address)
    {
        if (!_addresses.TryGetValue(dev, out var list) || list.RemoveAll(a => a == address) == 0)
            return new(Errno.EADDRNOTAVAIL, "Cannot assign requested address");
        bool stillLocal = _addresses.Values.Any(l => l.Any(a => a.Address == address.Address));
        RemoveWhere(r => r.Protocol == RouteProtocol.Kernel && r.Device == dev &&
            ((r.Type == RouteType.Local && r.PrefixLength == 32 && r.Network == address.Address && !stillLocal) ||
             (r.PrefixLength == address.Length && r.Network == address.Network && r.PrefSrc == address.Address) ||
             (r.Type == RouteType.Broadcast && r.Network == address.BroadcastAddress && r.PrefSrc == address.Address)));
        if (!stillLocal) RemoveWhere(r => r.PrefSrc == address.Address);
        // The device's last address gone: fib_disable_ip flushes every route through it.
        if (list.Count == 0) RemoveWhere(r => r.Device == dev);
        return FibStatus.Success;
    }

    /// <summary>
    /// <c>ip route add</c>: validates like <c>fib_create_info</c> / <c>fib_check_nh</c> and inserts like
    /// <c>fib_table_insert</c> with <c>NLM_F_EXCL</c>. A gateway must be reachable through a link- or host-scope
    /// route (a connected subnet or a local address), looked up over the device if one is given; otherwise
    /// "Nexthop has invalid gateway". Without a gateway a unicast route gets scope link, as iproute2 sets it.
    /// </summary>
    public FibStatus AddRoute(Ipv4Prefix destination, Ipv4Address? via = null, string? dev = null, int metric = 0,
        RouteType type = RouteType.Unicast, RouteProtocol protocol = RouteProtocol.Boot, RouteScope? scope = null,
        Ipv4Address? src = null, RouteTable table = RouteTable.Main)
    {
        if (destination.Length is < 0 or > 32) return new(Errno.EINVAL, "Invalid prefix length");
        if ((destination.Address.Value & ~destination.Mask) != 0)
            return new(Errno.EINVAL, "Invalid prefix for given prefix length");
        if (metric < 0) return new(Errno.EINVAL, "Invalid metric");
        var t = Get(table);
        if (t.Count >= MaxRoutesPerTable) return new(Errno.ENOBUFS, "No buffer space available");

        bool isError = type is RouteType.Unreachable or RouteType.Prohibit or RouteType.Blackhole;
        if (isError)
        {
            if (via is not null || dev is not null)
                return new(Errno.EINVAL, "Gateway, device and multipath can not be specified for this route type");
        }
        else if (via is null && dev is null)
            return new(Errno.ENODEV, "No nexthop device");

        var sc = scope ?? type switch
        {
            RouteType.Local => RouteScope.Host,
            RouteType.Broadcast => RouteScope.Link,
            RouteType.Unicast when via is null => RouteScope.Link,
            _ => RouteScope.Universe,
        };
        if (sc > RouteScope.Host) return new(Errno.EINVAL, "Invalid scope");

        string? outDev = dev;
        if (!isError)
        {
            if (dev is not null && !_devices.Contains(dev)) return new(Errno.ENODEV, "Cannot find device");
            if (via is { } gw)
            {
                if (sc == RouteScope.Host) return new(Errno.EINVAL, "Route with host scope can not have a gateway");
                // fib_check_nh_v4_gw: the gateway must resolve with scope at least link, over dev if given.
                var flowScope = (RouteScope)Math.Max((int)sc + 1, (int)RouteScope.Link);
                var res = LookupCore(gw, dev, flowScope);
                if (!res.Ok) return new(res.Error == Errno.ENETUNREACH ? Errno.ENETUNREACH : res.Error, "Nexthop has invalid gateway");
                if (res.Type is not (RouteType.Unicast or RouteType.Local))
                    return new(Errno.EINVAL, "Nexthop has invalid gateway");
                outDev = res.Device;
            }
            if (src is { } s && table != RouteTable.Local && LookupIn(_local, s, null, RouteScope.Universe).Route?.Type != RouteType.Local)
                return new(Errno.EINVAL, "Invalid prefsrc address");
        }

        var route = new FibRoute
        {
            Network = destination.Address, PrefixLength = destination.Length, Type = type, Gateway = via,
            Device = isError ? null : outDev, Metric = metric, Scope = sc, Protocol = protocol, PrefSrc = src,
            Table = table, Seq = ++_seq, LinkDown = !isError && sc != RouteScope.Host && outDev is not null && _linkDown.Contains(outDev),
        };
        var existing = Aliases(t, destination.Address.Value, destination.Length);
        if (existing is not null && existing.Any(r => r.Metric == metric))
            return new(Errno.EEXIST, "File exists");
        Insert(route);
        return FibStatus.Success;
    }

    /// <summary><c>ip route del</c>: removes the first alias matching prefix (and metric / gateway / device when given).</summary>
    public FibStatus DeleteRoute(Ipv4Prefix destination, int? metric = null, Ipv4Address? via = null, string? dev = null,
        RouteTable table = RouteTable.Main)
    {
        var t = Get(table);
        var list = Aliases(t, destination.Network.Value, destination.Length);
        var r = list?.FirstOrDefault(r => (metric is null || r.Metric == metric) && (via is null || r.Gateway == via) &&
                                          (dev is null || r.Device == dev));
        if (r is null) return new(Errno.ESRCH, "No such process");
        Remove(t, r);
        return FibStatus.Success;
    }

    /// <summary>
    /// Carrier change on a device (<c>fib_sync_down_dev(NETDEV_CHANGE)</c> / <c>fib_sync_up</c>): next hops through
    /// it get or lose <c>RTNH_F_LINKDOWN</c>. Host-scope routes (the device's local addresses) have next-hop scope
    /// nowhere and are not marked, as in Linux.
    /// </summary>
    public void MarkLinkDown(string dev, bool down)
    {
        if (down) _linkDown.Add(dev); else _linkDown.Remove(dev);
        foreach (var t in new[] { _local, _main })
            t.ReplaceWhere(r => r.Device == dev && r.Scope != RouteScope.Host && r.LinkDown != down, r => r.WithLinkDown(down));
    }

    /// <summary>
    /// <c>fib_disable_ip</c> at NETDEV_DOWN: every route through <paramref name="dev"/> whose next hop is not
    /// host-scoped (all but its local-address routes) is flushed. Returns the kernel routes among them, which
    /// <c>fib_add_ifaddr</c> installs again at NETDEV_UP (static routes stay gone, as in Linux).
    /// </summary>
    public IReadOnlyList<FibRoute> DisableIp(string dev)
    {
        var kernel = new List<FibRoute>();
        foreach (var table in new[] { RouteTable.Local, RouteTable.Main })
        {
            foreach (var r in Routes(table).Where(r => r.Device == dev && r.Scope != RouteScope.Host).ToList())
            {
                DeleteRoute(r.Prefix, r.Metric, r.Gateway, r.Device, table);
                if (r.Protocol == RouteProtocol.Kernel) kernel.Add(r);
            }
        }
        return kernel;
    }

    /// <summary>Puts back routes <see cref="DisableIp"/> flushed (<c>fib_add_ifaddr</c> at NETDEV_UP).</summary>
    public void Restore(IEnumerable<FibRoute> routes)
    {
        foreach (var r in routes)
            AddRoute(r.Prefix, r.Gateway, r.Device, r.Metric, r.Type, r.Protocol, r.Scope, r.PrefSrc, r.Table);
    }

    /// <summary>
    /// <c>fib_lookup</c> with the default rules: table local, then table main. <paramref name="oif"/> restricts next
    /// hops to one device (<c>flowi4_oif</c>); <paramref name="scope"/> skips routes of a wider scope (<c>flowi4_scope</c>).
    /// </summary>
    public FibResult Lookup(Ipv4Address dst, string? oif = null, RouteScope scope = RouteScope.Universe)
        => LookupCore(dst, oif, scope);

    private FibResult LookupCore(Ipv4Address dst, string? oif, RouteScope scope) => FibTables.Lookup(_local, _main, dst, oif, scope);

    private static FibResult LookupIn(FibTables.Table t, Ipv4Address dst, string? oif, RouteScope scope) => FibTables.LookupIn(t, dst, oif, scope);

    /// <summary>Routes of a table in the order the kernel dumps them (trie key order; longer prefix first; metric).</summary>
    public IReadOnlyList<FibRoute> Routes(RouteTable table = RouteTable.Main) => Get(table).Dump();

    /// <summary>Exactly <c>ip route</c> (table main): one line per route, each ending in a newline.</summary>
    public string Format() => FormatTable("main");

    /// <summary><c>ip route show table NAME</c> for "main" or "local".</summary>
    public string FormatTable(string table) => FibTables.Format(_local, _main, table);

    private FibRoute Kernel(RouteType type, Ipv4Address dst, int len, string dev, Ipv4Address src, RouteTable table, RouteScope scope)
        => new()
        {
            Network = dst, PrefixLength = len, Type = type, Device = dev, Scope = scope, Protocol = RouteProtocol.Kernel,
            PrefSrc = src, Table = table, Seq = ++_seq, LinkDown = scope != RouteScope.Host && _linkDown.Contains(dev),
        };

    private FibTables.Table Get(RouteTable t) => t == RouteTable.Local ? _local : _main;

    private static List<FibRoute>? Aliases(FibTables.Table t, uint network, int len) => t.Aliases(network, len);

    private void Insert(FibRoute r) => Get(r.Table).Insert(r);

    private static void Remove(FibTables.Table t, FibRoute r) => t.Remove(r);

    private void RemoveWhere(Func<FibRoute, bool> pred)
    {
        foreach (var t in new[] { _local, _main })
            foreach (var r in t.All().Where(pred).ToList())
                t.Remove(r);
    }
}

/// <summary>The lookup every reader of a FIB needs: the writer's <see cref="Fib"/> and a published <see cref="FibTable"/>.</summary>
public interface IFibLookup
{
    /// <summary><c>fib_lookup</c> with the default rules (table local, then main).</summary>
    FibResult Lookup(Ipv4Address dst, string? oif = null, RouteScope scope = RouteScope.Universe);
}

/// <summary>
/// One published FIB (the tables as RCU readers see them): immutable, looked up by every actor of a host without
/// a lock or a message, replaced whole by the routing actor on every change. <see cref="Generation"/> moves with
/// each publication (<c>rt_genid</c>), so a socket's cached route (<c>sk_dst_cache</c>) knows to look again.
/// </summary>
public sealed class FibTable : IFibLookup
{
    internal FibTable(FibTables.Table local, FibTables.Table main, ImmutableDictionary<string, ImmutableArray<Ipv4Prefix>> addresses,
        ImmutableHashSet<string> devices, ImmutableHashSet<string> linkDown, long seq, long generation, int maxRoutesPerTable)
        => (LocalTable, MainTable, Addresses, Devices, LinkDownDevices, Seq, Generation, MaxRoutesPerTable) =
            (local, main, addresses, devices, linkDown, seq, generation, maxRoutesPerTable);

    /// <summary>An empty FIB at generation 0.</summary>
    public static readonly FibTable Empty = new Fib().ToTable();

    internal FibTables.Table LocalTable { get; }
    internal FibTables.Table MainTable { get; }
    internal ImmutableDictionary<string, ImmutableArray<Ipv4Prefix>> Addresses { get; }
    internal ImmutableHashSet<string> Devices { get; }
    internal ImmutableHashSet<string> LinkDownDevices { get; }
    internal long Seq { get; }
    internal int MaxRoutesPerTable { get; }

    /// <summary>How many tables were published before this one by the same writer (<c>rt_genid</c>).</summary>
    public long Generation { get; }

    /// <summary>A writer's copy with the same routes, addresses and generation, for the owner to change.</summary>
    public Fib ToBuilder() => new(this);

    public FibResult Lookup(Ipv4Address dst, string? oif = null, RouteScope scope = RouteScope.Universe)
        => FibTables.Lookup(LocalTable, MainTable, dst, oif, scope);

    public int RouteCount(RouteTable table) => (table == RouteTable.Local ? LocalTable : MainTable).Count;

    public IReadOnlyList<Ipv4Prefix> AddressesOf(string dev)
        => Addresses.TryGetValue(dev, out var l) ? l : ImmutableArray<Ipv4Prefix>.Empty;

    /// <summary>Routes of a table in the order the kernel dumps them.</summary>
    public IReadOnlyList<FibRoute> Routes(RouteTable table = RouteTable.Main) => (table == RouteTable.Local ? LocalTable : MainTable).Dump();

    /// <summary>Exactly <c>ip route</c> (table main).</summary>
    public string Format() => FormatTable("main");

    /// <summary><c>ip route show table NAME</c> for "main" or "local".</summary>
    public string FormatTable(string table) => FibTables.Format(LocalTable, MainTable, table);
}

/// <summary>The tables' storage and the read side shared by <see cref="Fib"/> and <see cref="FibTable"/>.</summary>
internal static class FibTables
{
    /// <summary>One routing table: routes per prefix length, keyed by network; each list in alias order (metric, then insertion).</summary>
    internal sealed class Table
    {
        public readonly Dictionary<uint, List<FibRoute>>?[] ByLength = new Dictionary<uint, List<FibRoute>>?[33];
        public ulong LengthsPresent;
        public int Count;

        /// <summary>A deep copy of the index (the routes themselves are immutable and shared).</summary>
        public Table Clone()
        {
            var c = new Table { LengthsPresent = LengthsPresent, Count = Count };
            for (int len = 0; len <= 32; len++)
                if (ByLength[len] is { } d)
                {
                    var copy = new Dictionary<uint, List<FibRoute>>(d.Count);
                    foreach (var (net, list) in d) copy[net] = new List<FibRoute>(list);
                    c.ByLength[len] = copy;
                }
            return c;
        }

        public List<FibRoute>? Aliases(uint network, int len)
            => ByLength[len] is { } d && d.TryGetValue(network, out var l) ? l : null;

        public void Insert(FibRoute r)
        {
            var d = ByLength[r.PrefixLength] ??= new Dictionary<uint, List<FibRoute>>();
            if (!d.TryGetValue(r.Network.Value, out var list)) d[r.Network.Value] = list = new List<FibRoute>(1);
            int i = 0;
            while (i < list.Count && list[i].Metric <= r.Metric) i++;
            list.Insert(i, r);
            LengthsPresent |= 1UL << r.PrefixLength;
            Count++;
        }

        public void Remove(FibRoute r)
        {
            var d = ByLength[r.PrefixLength]!;
            var list = d[r.Network.Value];
            list.Remove(r);
            Count--;
            if (list.Count == 0)
            {
                d.Remove(r.Network.Value);
                if (d.Count == 0) LengthsPresent &= ~(1UL << r.PrefixLength);
            }
        }

        /// <summary>Replaces, in place in their alias lists, the routes matching <paramref name="pred"/>.</summary>
        public void ReplaceWhere(Func<FibRoute, bool> pred, Func<FibRoute, FibRoute> with)
        {
            foreach (var d in ByLength)
                if (d is not null)
                    foreach (var list in d.Values)
                        for (int i = 0; i < list.Count; i++)
                            if (pred(list[i])) list[i] = with(list[i]);
        }

        public IEnumerable<FibRoute> All()
        {
            foreach (var d in ByLength)
                if (d is not null)
                    foreach (var list in d.Values)
                        foreach (var r in list)
                            yield return r;
        }

        /// <summary>The routes in the order the kernel dumps them (trie key order; longer prefix first; metric).</summary>
        public IReadOnlyList<FibRoute> Dump()
            => All().OrderBy(r => r.Network.Value).ThenByDescending(r => r.PrefixLength)
                .ThenBy(r => r.Metric).ThenBy(r => r.Seq).ToList();
    }

    public static FibResult Lookup(Table local, Table main, Ipv4Address dst, string? oif, RouteScope scope)
    {
        var r = LookupIn(local, dst, oif, scope);
        if (r.Route is not null) return r;
        r = LookupIn(main, dst, oif, scope);
        if (r.Route is not null) return r;
        return new FibResult(Errno.ENETUNREACH, null, dst);
    }

    // fib_table_lookup: longest prefix first, aliases in order; an error route ends the search with its error;
    // a prefix whose aliases are all unusable (scope, oif) backtracks to shorter prefixes. No match: Route null.
    public static FibResult LookupIn(Table t, Ipv4Address dst, string? oif, RouteScope scope)
    {
        ulong present = t.LengthsPresent;
        for (int len = 32; len >= 0; len--)
        {
            if ((present & (1UL << len)) == 0) continue;
            var aliases = t.ByLength[len]!;
            if (!aliases.TryGetValue(dst.Value & Ipv4Address.PrefixMask(len), out var list)) continue;
            foreach (var r in list)
            {
                if (r.Scope < scope) continue;
                if (r.Error != Errno.OK) return new FibResult(r.Error, r, dst);
                if (oif is not null && r.Device != oif) continue;
                return new FibResult(Errno.OK, r, r.Gateway ?? dst);
            }
        }
        return new FibResult(Errno.ENETUNREACH, null, dst);
    }

    /// <summary><c>ip route show table NAME</c> for "main" or "local": one line per route, each ending in a newline.</summary>
    public static string Format(Table local, Table main, string table)
    {
        var t = table switch
        {
            "main" => main,
            "local" => local,
            _ => null,
        };
        if (t is null) return "";
        var sb = new StringBuilder();
        foreach (var r in t.Dump()) sb.Append(r.Format()).Append('\n');
        return sb.ToString();
    }
}

/// <summary>Route type names as <c>ip route</c> reads them.</summary>
public static class RouteTypes
{
    public static readonly string[] Names = ["unicast", "unreachable", "blackhole", "prohibit"];

    public static RouteType Parse(string name) => name switch
    {
        "unicast" => RouteType.Unicast,
        "unreachable" => RouteType.Unreachable,
        "blackhole" => RouteType.Blackhole,
        "prohibit" => RouteType.Prohibit,
        _ => throw new ArgumentException($"unknown route type '{name}'"),
    };
}
