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
/// Immutable except for the next hop's <c>RTNH_F_LINKDOWN</c> flag, which follows the device's carrier.
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
    public bool LinkDown { get; internal set; }
    internal long Seq { get; init; }

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
/// </summary>
public sealed class Fib
{
    private sealed class Table
    {
        // Routes per prefix length, keyed by network; each list is in alias order (metric, then insertion).
        public readonly Dictionary<uint, List<FibRoute>>?[] ByLength = new Dictionary<uint, List<FibRoute>>?[33];
        public ulong LengthsPresent;
        public int Count;
    }

    private readonly Table _local = new();
    private readonly Table _main = new();
    private readonly Dictionary<string, List<Ipv4Prefix>> _addresses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _devices = new(StringComparer.Ordinal);
    private readonly HashSet<string> _linkDown = new(StringComparer.Ordinal);
    private long _seq;

    /// <summary>Upper bound on routes per table; an insert beyond it fails with <c>ENOBUFS</c>.</summary>
    public int MaxRoutesPerTable { get; }

    public Fib(int maxRoutesPerTable = 1 << 20) => MaxRoutesPerTable = maxRoutesPerTable;

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
        foreach (var r in All(_local).Concat(All(_main)))
            if (r.Device == dev && r.Scope != RouteScope.Host) r.LinkDown = down;
    }

    /// <summary>
    /// <c>fib_lookup</c> with the default rules: table local, then table main. <paramref name="oif"/> restricts next
    /// hops to one device (<c>flowi4_oif</c>); <paramref name="scope"/> skips routes of a wider scope (<c>flowi4_scope</c>).
    /// </summary>
    public FibResult Lookup(Ipv4Address dst, string? oif = null, RouteScope scope = RouteScope.Universe)
        => LookupCore(dst, oif, scope);

    private FibResult LookupCore(Ipv4Address dst, string? oif, RouteScope scope)
    {
        var r = LookupIn(_local, dst, oif, scope);
        if (r.Route is not null) return r;
        r = LookupIn(_main, dst, oif, scope);
        if (r.Route is not null) return r;
        return new FibResult(Errno.ENETUNREACH, null, dst);
    }

    // fib_table_lookup: longest prefix first, aliases in order; an error route ends the search with its error;
    // a prefix whose aliases are all unusable (scope, oif) backtracks to shorter prefixes. No match: Route null.
    private static FibResult LookupIn(Table t, Ipv4Address dst, string? oif, RouteScope scope)
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

    /// <summary>Routes of a table in the order the kernel dumps them (trie key order; longer prefix first; metric).</summary>
    public IReadOnlyList<FibRoute> Routes(RouteTable table = RouteTable.Main)
        => All(Get(table)).OrderBy(r => r.Network.Value).ThenByDescending(r => r.PrefixLength)
            .ThenBy(r => r.Metric).ThenBy(r => r.Seq).ToList();

    /// <summary>Exactly <c>ip route</c> (table main): one line per route, each ending in a newline.</summary>
    public string Format() => FormatTable("main");

    /// <summary><c>ip route show table NAME</c> for "main" or "local".</summary>
    public string FormatTable(string table)
    {
        var t = table switch
        {
            "main" => RouteTable.Main,
            "local" => RouteTable.Local,
            _ => (RouteTable)(-1),
        };
        if ((int)t == -1) return "";
        var sb = new StringBuilder();
        foreach (var r in Routes(t)) sb.Append(r.Format()).Append('\n');
        return sb.ToString();
    }

    private FibRoute Kernel(RouteType type, Ipv4Address dst, int len, string dev, Ipv4Address src, RouteTable table, RouteScope scope)
        => new()
        {
            Network = dst, PrefixLength = len, Type = type, Device = dev, Scope = scope, Protocol = RouteProtocol.Kernel,
            PrefSrc = src, Table = table, Seq = ++_seq, LinkDown = scope != RouteScope.Host && _linkDown.Contains(dev),
        };

    private Table Get(RouteTable t) => t == RouteTable.Local ? _local : _main;

    private static List<FibRoute>? Aliases(Table t, uint network, int len)
        => t.ByLength[len] is { } d && d.TryGetValue(network, out var l) ? l : null;

    private void Insert(FibRoute r)
    {
        var t = Get(r.Table);
        var d = t.ByLength[r.PrefixLength] ??= new Dictionary<uint, List<FibRoute>>();
        if (!d.TryGetValue(r.Network.Value, out var list)) d[r.Network.Value] = list = new List<FibRoute>(1);
        int i = 0;
        while (i < list.Count && list[i].Metric <= r.Metric) i++;
        list.Insert(i, r);
        t.LengthsPresent |= 1UL << r.PrefixLength;
        t.Count++;
    }

    private static void Remove(Table t, FibRoute r)
    {
        var d = t.ByLength[r.PrefixLength]!;
        var list = d[r.Network.Value];
        list.Remove(r);
        t.Count--;
        if (list.Count == 0)
        {
            d.Remove(r.Network.Value);
            if (d.Count == 0) t.LengthsPresent &= ~(1UL << r.PrefixLength);
        }
    }

    private void RemoveWhere(Func<FibRoute, bool> pred)
    {
        foreach (var t in new[] { _local, _main })
            foreach (var r in All(t).Where(pred).ToList())
                Remove(t, r);
    }

    private static IEnumerable<FibRoute> All(Table t)
    {
        foreach (var d in t.ByLength)
            if (d is not null)
                foreach (var list in d.Values)
                    foreach (var r in list)
                        yield return r;
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
