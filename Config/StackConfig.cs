using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>
/// Loads and validates the configuration: the embedded <c>stack.hocon</c>
/// (every tunable with its Linux default), overridden key by key by a user's
/// file. A user file that defines <c>actorstack.scenario</c> replaces the whole
/// default scenario. Every problem is collected and reported together, each
/// naming its key and the bad value (<see cref="StackConfigException"/>).
/// </summary>
public static partial class StackConfig
{
    public const string Root = "actorstack";

    /// <summary>The text of the embedded <c>stack.hocon</c>.</summary>
    public static string DefaultText { get; } = ReadEmbedded();

    private static string ReadEmbedded()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("ActorStack.stack.hocon")
                      ?? throw new InvalidOperationException("stack.hocon is not embedded");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    /// <summary>The Akka configuration for an actor system: the user's text over <c>stack.hocon</c>.</summary>
    public static Akka.Configuration.Config AkkaConfig(string? userText = null)
    {
        var defaults = Akka.Configuration.ConfigurationFactory.ParseString(DefaultText);
        return string.IsNullOrWhiteSpace(userText)
            ? defaults
            : Akka.Configuration.ConfigurationFactory.ParseString(userText).WithFallback(defaults);
    }

    /// <summary>The file at <paramref name="path"/> (includes relative to its directory, see <see cref="ConfigText"/>), then <paramref name="overrides"/>.</summary>
    public static StackSettings LoadFile(string path, IReadOnlyList<ConfigOverride>? overrides = null)
        => Load(ConfigText.PrepareFile(path), path, overrides);

    public static StackSettings Load(string? userText = null, string origin = "config") => Load(userText, origin, null);

    /// <summary><paramref name="userText"/> over <c>stack.hocon</c>, then <paramref name="overrides"/> (<c>--set</c>, <c>--seed</c>) over both.</summary>
    public static StackSettings Load(string? userText, string origin, IReadOnlyList<ConfigOverride>? overrides)
        => Load(userText, origin, overrides, out _);

    /// <summary>As <see cref="Load(string?, string, IReadOnlyList{ConfigOverride}?)"/>; <paramref name="effective"/> is the merged tree under <c>actorstack</c>.</summary>
    internal static StackSettings Load(string? userText, string origin, IReadOnlyList<ConfigOverride>? overrides,
        out Dictionary<string, object?> effective)
    {
        var defaults = ConfigTree.Parse(DefaultText, "stack.hocon");
        var user = string.IsNullOrWhiteSpace(userText) ? new Dictionary<string, object?>() : ConfigTree.Parse(ConfigText.Prepare(userText, origin), origin);
        var r = new Reader();
        if (overrides is { Count: > 0 }) ApplyOverrides(r, user, (Dictionary<string, object?>)defaults[Root]!, overrides);

        var defRoot = (Dictionary<string, object?>)defaults[Root]!;
        var userRoot = user.TryGetValue(Root, out var ur) ? ur as Dictionary<string, object?> : null;
        if (user.ContainsKey(Root) && userRoot is null) r.Error(Root, user[Root], "must be an object");
        userRoot ??= new Dictionary<string, object?>();

        // Unknown top-level keys under actorstack.
        r.KnownKeys(userRoot, Root, defRoot.Keys);

        // The scenario is replaced whole, never merged with the default one.
        var scenario = userRoot.TryGetValue("scenario", out var us) ? us : defRoot["scenario"];
        var tunablesUser = new Dictionary<string, object?>(userRoot);
        tunablesUser.Remove("scenario");
        var merged = ConfigTree.Merge(defRoot, tunablesUser);

        // Unknown keys in the tunable sections, checked against stack.hocon's own shape.
        foreach (var section in new[] { "sysctl", "device-defaults", "host-defaults", "run" })
        {
            if (userRoot.TryGetValue(section, out var sec))
            {
                if (sec is Dictionary<string, object?> sd)
                    r.KnownLeaves(sd, $"{Root}.{section}", (Dictionary<string, object?>)defRoot[section]!);
                else r.Error($"{Root}.{section}", sec, "must be an object");
            }
        }

        int seed = r.Int(merged, "seed", Root, int.MinValue, int.MaxValue);
        var globalSysctl = merged["sysctl"] as Dictionary<string, object?> ?? new();
        var deviceDefaults = merged["device-defaults"] as Dictionary<string, object?> ?? new();
        var hostDefaults = merged["host-defaults"] as Dictionary<string, object?> ?? new();
        var run = merged["run"] as Dictionary<string, object?> ?? new();
        var runSettings = new RunSettings(
            r.Duration(run, "max-duration", $"{Root}.run"),
            r.Duration(run, "progress-interval", $"{Root}.run"),
            r.Duration(run, "settle", $"{Root}.run"));
        // Schedule exploration's keys: read by the engine from the actor system's config (VirtualTimeScheduler,
        // ScheduleExplorer), checked here so a wrong value is refused with the other configuration errors.
        if (run.GetValueOrDefault("schedule") is var strategy && strategy is not ("fifo" or "random" or "pct"))
            r.Error($"{Root}.run.schedule", strategy, "must be fifo, random or pct");
        r.Int(run, "schedule-seed", $"{Root}.run", int.MinValue, int.MaxValue);
        r.Int(run, "pct-depth", $"{Root}.run", 1, 1000);
        r.Long(run, "explore-max-steps", $"{Root}.run", 1, long.MaxValue);
        r.Duration(run, "explore-max-time", $"{Root}.run");
        bool trace = r.Bool(merged, "trace", Root);
        var supervision = ReadSupervision(r, deviceDefaults, $"{Root}.device-defaults");

        var sp = $"{Root}.scenario";
        var sc = scenario as Dictionary<string, object?>;
        if (sc is null) { r.Error(sp, scenario, "must be an object"); sc = new(); }
        r.KnownKeys(sc, sp, ["hosts", "switches", "wires", "workloads", "capture", "faults", "schedule"]);

        var hosts = ReadHosts(r, sc, sp, globalSysctl, deviceDefaults, hostDefaults, defRoot);
        var switches = ReadSwitches(r, sc, sp, hosts);
        var wires = ReadWires(r, sc, sp, hosts, switches);
        var workloads = ReadWorkloads(r, sc, sp, hosts, seed);
        var capture = ReadCapture(r, sc, sp, hosts);
        var faults = ReadFaults(r, sc, sp, wires);
        var schedule = ReadSchedule(r, sc, sp, wires, hosts);
        var cluster = ReadCluster(r, merged);

        effective = new Dictionary<string, object?>(merged) { ["scenario"] = scenario };
        if (r.Errors.Count > 0) throw new StackConfigException(OverrideErrors(r.Errors, overrides));
        return new StackSettings(seed, hosts, wires, workloads, capture.First, runSettings, trace)
        {
            Switches = switches, Faults = faults, Schedule = schedule, Supervision = supervision, MoreCaptures = capture.More, Cluster = cluster,
        };
    }

    private static readonly string[] DeviceKeys =
        ["mac", "mtu", "rx-ring", "tx-ring", "rx-buffer-size", "rx-queues", "rps-cpus", "irq-cpus", "txqueuelen", "rx-fifo", "addresses", "gro", "gso", "tso", "speed", "tx-usecs", "rx-usecs", "rx-frames"];

    private static ImmutableArray<HostSettings> ReadHosts(Reader r, Dictionary<string, object?> sc, string sp,
        Dictionary<string, object?> globalSysctl, Dictionary<string, object?> deviceDefaults, Dictionary<string, object?> hostDefaults,
        Dictionary<string, object?> defRoot)
    {
        var result = ImmutableArray.CreateBuilder<HostSettings>();
        if (!sc.TryGetValue("hosts", out var hv) || hv is not Dictionary<string, object?> hosts || hosts.Count == 0)
        {
            r.Error($"{sp}.hosts", hv, "must be an object with at least one host");
            return result.ToImmutable();
        }
        var macs = new Dictionary<ulong, string>();
        int ifindexBase = 0;
        foreach (var (name, value) in hosts)
        {
            var hp = $"{sp}.hosts.{name}";
            if (!IsName(name)) r.Error(hp, name, "a host name must be letters, digits, '-' or '_'");
            if (value is not Dictionary<string, object?> h) { r.Error(hp, value, "must be an object"); continue; }
            r.KnownKeys(h, hp, ["cpus", "sysctl", "devices", "routes", "neighbours", "netfilter", "cpu-cost", "node"]);
            var hm = ConfigTree.Merge(hostDefaults, h);
            int cpus = r.Int(hm, "cpus", hp, 1, 64);
            var sysctlTree = globalSysctl;
            if (h.TryGetValue("sysctl", out var hs))
            {
                if (hs is Dictionary<string, object?> hsd)
                {
                    r.KnownLeaves(hsd, $"{hp}.sysctl", (Dictionary<string, object?>)defRoot["sysctl"]!);
                    sysctlTree = ConfigTree.Merge(globalSysctl, hsd);
                }
                else r.Error($"{hp}.sysctl", hs, "must be an object");
            }
            var sysctl = ReadSysctl(r, sysctlTree, h.ContainsKey("sysctl") ? $"{hp}.sysctl" : $"{Root}.sysctl");
            var devices = ImmutableArray.CreateBuilder<DeviceSettings>();
            if (h.TryGetValue("devices", out var dv) && dv is not Dictionary<string, object?>)
                r.Error($"{hp}.devices", dv, "must be an object");
            foreach (var (dname, dval) in dv as Dictionary<string, object?> ?? new())
            {
                var dp = $"{hp}.devices.{dname}";
                if (!IsName(dname) || dname.Length > 15) r.Error(dp, dname, "a device name must be 1-15 letters, digits, '-' or '_' (IFNAMSIZ)");
                if (dname == "lo") r.Error(dp, dname, "'lo' is the loopback device every host has");
                if (dval is not Dictionary<string, object?> d) { r.Error(dp, dval, "must be an object"); continue; }
                r.KnownKeys(d, dp, DeviceKeys);
                var dm = ConfigTree.Merge(deviceDefaults, d);
                ifindexBase++;
                var mac = dm.TryGetValue("mac", out var mv) && mv is string ms
                    ? r.Mac(ms, $"{dp}.mac")
                    : new MacAddress(0x02_00_00_00_00_00UL | (uint)ifindexBase); // locally administered
                if (mac.IsMulticast) r.Error($"{dp}.mac", mac, "must be a unicast address");
                if (mac.Value != 0 && !macs.TryAdd(mac.Value, dp)) r.Error($"{dp}.mac", mac, $"already used by {macs[mac.Value]}");
                var queues = r.Int(dm, "rx-queues", dp, 1, 64);
                var rps = r.CpuMask(dm, "rps-cpus", dp, cpus);
                var irq = r.IntList(dm, "irq-cpus", dp, 0, cpus - 1);
                if (irq.Length > queues) r.Error($"{dp}.irq-cpus", string.Join(",", irq), $"lists {irq.Length} CPUs for {queues} RX queue(s)");
                var dev = new DeviceSettings(dname, mac,
                    Mtu: r.Int(dm, "mtu", dp, 68, 65535),
                    RxRing: r.Int(dm, "rx-ring", dp, 8, 65536),
                    TxRing: r.Int(dm, "tx-ring", dp, 8, 65536),
                    RxBufferSize: r.Int(dm, "rx-buffer-size", dp, 256, 65536),
                    RxQueues: queues,
                    RpsCpus: rps,
                    IrqCpus: irq,
                    TxQueueLen: r.Int(dm, "txqueuelen", dp, 0, 1 << 20),
                    RxFifo: r.Int(dm, "rx-fifo", dp, 1, 1 << 20),
                    Addresses: r.Prefixes(dm, "addresses", dp))
                {
                    // ethtool -K: offloads on unless the device (or device-defaults) turns them off.
                    Gro = !dm.ContainsKey("gro") || r.Bool(dm, "gro", dp),
                    Gso = !dm.ContainsKey("gso") || r.Bool(dm, "gso", dp),
                    Tso = !dm.ContainsKey("tso") || r.Bool(dm, "tso", dp),
                    // ethtool -s DEV speed N: 10BASE-T up to 400GBASE.
                    Speed = r.Int(dm, "speed", dp, 10, 400_000, 10_000),
                    // ethtool -C DEV tx-usecs N
                    TxUsecs = r.Int(dm, "tx-usecs", dp, 0, 10_000, 3),
                    // ethtool -C DEV rx-usecs N rx-frames M (RX interrupt moderation, virtual clock only)
                    RxUsecs = r.Int(dm, "rx-usecs", dp, 0, 10_000, 3),
                    RxFrames = r.Int(dm, "rx-frames", dp, 0, 65_536, 0),
                };
                devices.Add(dev);
            }
            var devs = devices.ToImmutable();
            result.Add(new HostSettings(name, cpus, sysctl, devs)
            {
                Node = ReadNode(r, h, hp),
                Routes = ReadRoutes(r, h, hp, devs),
                Neighbours = ReadNeighbours(r, h, hp, devs),
                Netfilter = ReadNetfilter(r, h, hp),
                CpuCost = ReadCpuCost(r, hm, h.ContainsKey("cpu-cost") ? hp : $"{Root}.host-defaults",
                    (Dictionary<string, object?>)((Dictionary<string, object?>)defRoot["host-defaults"]!)["cpu-cost"]!),
            });
        }
        return result.ToImmutable();
    }

    /// <summary><c>cpu-cost { napi-poll = 60ns, … }</c>: each key a non-negative time (ns, us or ms), unknown keys refused.</summary>
    private static CpuCostSettings ReadCpuCost(Reader r, Dictionary<string, object?> hm, string path, Dictionary<string, object?> shape)
    {
        var p = $"{path}.cpu-cost";
        if (!hm.TryGetValue("cpu-cost", out var cv) || cv is not Dictionary<string, object?> c)
        {
            r.Error(p, cv, "must be an object");
            return CpuCostSettings.Zero;
        }
        r.KnownLeaves(c, p, shape);
        var v = new long[CpuCostSettings.Keys.Length];
        for (int i = 0; i < v.Length; i++) v[i] = r.Nanoseconds(c, CpuCostSettings.Keys[i], p, max: 1_000_000_000);
        return CpuCostSettings.FromArray(v);
    }

    private static SysctlSettings ReadSysctl(Reader r, Dictionary<string, object?> t, string p) => new(
        NetdevMaxBacklog: r.Int(t, "net.core.netdev_max_backlog", p, 1, 1 << 24),
        NetdevBudget: r.Int(t, "net.core.netdev_budget", p, 1, 1 << 20),
        NetdevBudgetUsecs: r.Int(t, "net.core.netdev_budget_usecs", p, 1, 1 << 24),
        DevWeight: r.Int(t, "net.core.dev_weight", p, 1, 1 << 16),
        RmemDefault: r.Int(t, "net.core.rmem_default", p, 256, int.MaxValue / 2),
        RmemMax: r.Int(t, "net.core.rmem_max", p, 256, int.MaxValue / 2),
        WmemDefault: r.Int(t, "net.core.wmem_default", p, 256, int.MaxValue / 2),
        IpDefaultTtl: r.Int(t, "net.ipv4.ip_default_ttl", p, 1, 255))
    {
        WmemMax = r.Int(t, "net.core.wmem_max", p, 256, int.MaxValue / 2),
        GroNormalBatch = r.Int(t, "net.core.gro_normal_batch", p, 1, 1 << 20),
        IpForward = r.Int(t, "net.ipv4.ip_forward", p, 0, 1) == 1,
        LocalPortLow = r.Int(t, "net.ipv4.ip_local_port_range.low", p, 1, 65535),
        LocalPortHigh = r.Int(t, "net.ipv4.ip_local_port_range.high", p, 1, 65535),
        IcmpEchoIgnoreAll = r.Int(t, "net.ipv4.icmp_echo_ignore_all", p, 0, 1) == 1,
        IcmpEchoIgnoreBroadcasts = r.Int(t, "net.ipv4.icmp_echo_ignore_broadcasts", p, 0, 1) == 1,
        MinPmtu = r.Int(t, "net.ipv4.route.min_pmtu", p, 68, 65535),
        MtuExpires = TimeSpan.FromSeconds(r.Int(t, "net.ipv4.route.mtu_expires", p, 0, int.MaxValue)),
        IpNoPmtuDisc = r.Int(t, "net.ipv4.ip_no_pmtu_disc", p, 0, 3),
        Neigh = new NeighParms
        {
            BaseReachableTimeMs = r.Int(t, "net.ipv4.neigh.default.base_reachable_time_ms", p, 1, int.MaxValue),
            RetransTimeMs = r.Int(t, "net.ipv4.neigh.default.retrans_time_ms", p, 1, int.MaxValue),
            DelayFirstProbeTimeMs = 1000L * r.Int(t, "net.ipv4.neigh.default.delay_first_probe_time", p, 1, int.MaxValue / 1000),
            GcStaleTimeMs = 1000L * r.Int(t, "net.ipv4.neigh.default.gc_stale_time", p, 1, int.MaxValue / 1000),
            LocktimeMs = 10L * r.Int(t, "net.ipv4.neigh.default.locktime", p, 0, int.MaxValue / 10),
            UcastSolicit = r.Int(t, "net.ipv4.neigh.default.ucast_solicit", p, 0, 255),
            McastSolicit = r.Int(t, "net.ipv4.neigh.default.mcast_solicit", p, 0, 255),
            AppSolicit = r.Int(t, "net.ipv4.neigh.default.app_solicit", p, 0, 255),
            UnresQlenBytes = r.Int(t, "net.ipv4.neigh.default.unres_qlen_bytes", p, 0, int.MaxValue),
            GcThresh1 = r.Int(t, "net.ipv4.neigh.default.gc_thresh1", p, 0, 1 << 24),
            GcThresh2 = r.Int(t, "net.ipv4.neigh.default.gc_thresh2", p, 0, 1 << 24),
            GcThresh3 = r.Int(t, "net.ipv4.neigh.default.gc_thresh3", p, 1, 1 << 24),
        },
        Icmp = new IcmpRateLimitSettings
        {
            IcmpRatelimitMs = r.Int(t, "net.ipv4.icmp_ratelimit", p, 0, int.MaxValue),
            IcmpRatemask = (uint)r.Long(t, "net.ipv4.icmp_ratemask", p, 0, uint.MaxValue),
            IcmpMsgsPerSec = r.Int(t, "net.ipv4.icmp_msgs_per_sec", p, 0, int.MaxValue),
            IcmpMsgsBurst = r.Int(t, "net.ipv4.icmp_msgs_burst", p, 0, int.MaxValue),
        },
        Frag = new DefragSettings
        {
            IpfragHighThresh = r.Long(t, "net.ipv4.ipfrag_high_thresh", p, 0, int.MaxValue),
            IpfragLowThresh = r.Long(t, "net.ipv4.ipfrag_low_thresh", p, 0, int.MaxValue),
            IpfragTime = TimeSpan.FromSeconds(r.Int(t, "net.ipv4.ipfrag_time", p, 1, int.MaxValue)),
            IpfragMaxDist = r.Int(t, "net.ipv4.ipfrag_max_dist", p, 0, int.MaxValue),
        },
        Tcp = ReadTcpSysctl(r, t, p),
    };

    /// <summary>The tcp lines of a sysctl block; a key left out keeps the Linux default.</summary>
    private static TcpSysctl ReadTcpSysctl(Reader r, Dictionary<string, object?> t, string p)
    {
        var d = TcpSysctl.Default;
        int rmemMin = r.Int(t, "net.ipv4.tcp_rmem.min", p, 1, int.MaxValue / 2, d.RmemMin);
        int rmemDef = r.Int(t, "net.ipv4.tcp_rmem.default", p, 1, int.MaxValue / 2, d.RmemDefault);
        int rmemMax = r.Int(t, "net.ipv4.tcp_rmem.max", p, 1, int.MaxValue / 2, d.RmemMax);
        int wmemMin = r.Int(t, "net.ipv4.tcp_wmem.min", p, 1, int.MaxValue / 2, d.WmemMin);
        int wmemDef = r.Int(t, "net.ipv4.tcp_wmem.default", p, 1, int.MaxValue / 2, d.WmemDefault);
        int wmemMax = r.Int(t, "net.ipv4.tcp_wmem.max", p, 1, int.MaxValue / 2, d.WmemMax);
        if (!(rmemMin <= rmemDef && rmemDef <= rmemMax)) r.Error($"{p}.net.ipv4.tcp_rmem", $"{rmemMin} {rmemDef} {rmemMax}", "must be min <= default <= max");
        if (!(wmemMin <= wmemDef && wmemDef <= wmemMax)) r.Error($"{p}.net.ipv4.tcp_wmem", $"{wmemMin} {wmemDef} {wmemMax}", "must be min <= default <= max");
        var cc = ConfigTree.Get(t, "net.ipv4.tcp_congestion_control") as string ?? d.CongestionControl;
        if (cc is not ("cubic" or "reno")) r.Error($"{p}.net.ipv4.tcp_congestion_control", cc, "must be cubic or reno");
        return new TcpSysctl
        {
            RmemMin = rmemMin, RmemDefault = rmemDef, RmemMax = rmemMax,
            WmemMin = wmemMin, WmemDefault = wmemDef, WmemMax = wmemMax,
            SynRetries = r.Int(t, "net.ipv4.tcp_syn_retries", p, 1, 127, d.SynRetries),
            SynAckRetries = r.Int(t, "net.ipv4.tcp_synack_retries", p, 1, 255, d.SynAckRetries),
            Retries2 = r.Int(t, "net.ipv4.tcp_retries2", p, 0, 255, d.Retries2),
            FinTimeout = r.Int(t, "net.ipv4.tcp_fin_timeout", p, 1, int.MaxValue / 1000, d.FinTimeout),
            KeepaliveTime = r.Int(t, "net.ipv4.tcp_keepalive_time", p, 1, 32767, d.KeepaliveTime),
            KeepaliveIntvl = r.Int(t, "net.ipv4.tcp_keepalive_intvl", p, 1, 32767, d.KeepaliveIntvl),
            KeepaliveProbes = r.Int(t, "net.ipv4.tcp_keepalive_probes", p, 1, 127, d.KeepaliveProbes),
            Timestamps = r.Int(t, "net.ipv4.tcp_timestamps", p, 0, 2, d.Timestamps ? 1 : 0) != 0,
            Sack = r.Int(t, "net.ipv4.tcp_sack", p, 0, 1, d.Sack ? 1 : 0) == 1,
            WindowScaling = r.Int(t, "net.ipv4.tcp_window_scaling", p, 0, 1, d.WindowScaling ? 1 : 0) == 1,
            Syncookies = r.Int(t, "net.ipv4.tcp_syncookies", p, 0, 2, d.Syncookies),
            CongestionControl = cc,
            RtoMinUs = r.Int(t, "net.ipv4.tcp_rto_min_us", p, 1, int.MaxValue, d.RtoMinUs),
            Reordering = r.Int(t, "net.ipv4.tcp_reordering", p, 1, 1024, d.Reordering),
            MaxSynBacklog = r.Int(t, "net.ipv4.tcp_max_syn_backlog", p, 1, 1 << 24, d.MaxSynBacklog),
            MaxReordering = r.Int(t, "net.ipv4.tcp_max_reordering", p, 1, 1024, d.MaxReordering),
            Recovery = r.Int(t, "net.ipv4.tcp_recovery", p, 0, 7, d.Recovery),
            EarlyRetrans = r.Int(t, "net.ipv4.tcp_early_retrans", p, 0, 4, d.EarlyRetrans),
            Dsack = r.Int(t, "net.ipv4.tcp_dsack", p, 0, 1, d.Dsack ? 1 : 0) == 1,
            LimitOutputBytes = r.Int(t, "net.ipv4.tcp_limit_output_bytes", p, 1, int.MaxValue, d.LimitOutputBytes),
            SoMaxConn = r.Int(t, "net.core.somaxconn", p, 1, 1 << 24, d.SoMaxConn),
        };
    }

    private static ImmutableArray<WireSettings> ReadWires(Reader r, Dictionary<string, object?> sc, string sp, ImmutableArray<HostSettings> hosts,
        ImmutableArray<SwitchSettings> switches)
    {
        var result = ImmutableArray.CreateBuilder<WireSettings>();
        if (!sc.TryGetValue("wires", out var wv) || wv is null) return result.ToImmutable();
        if (wv is not List<object?> list) { r.Error($"{sp}.wires", wv, "must be a list"); return result.ToImmutable(); }
        var used = new Dictionary<string, string>();
        for (int i = 0; i < list.Count; i++)
        {
            var wp = $"{sp}.wires[{i}]";
            if (list[i] is not Dictionary<string, object?> w) { r.Error(wp, list[i], "must be an object { a, b, delay } or { a, tap, delay }"); continue; }
            r.KnownKeys(w, wp, ["a", "b", "tap", "delay", "netem-a-to-b", "netem-b-to-a"]);
            var a = Endpoint(r, w, "a", wp, hosts, switches);
            (string Host, string Device, int? Port)? b = null;
            string? tap = null;
            if (w.ContainsKey("tap"))
            {
                if (w.ContainsKey("b")) r.Error($"{wp}.tap", w["tap"], "a wire has either b or tap, not both");
                tap = w["tap"] as string;
                // IFNAMSIZ: a Linux interface name is at most 15 characters, without '/' or whitespace.
                if (tap is null || tap.Length is 0 or > 15 || tap.Any(ch => ch == '/' || char.IsWhiteSpace(ch)) || tap is "." or "..")
                {
                    r.Error($"{wp}.tap", w["tap"], "must be a Linux interface name of 1-15 characters (IFNAMSIZ)");
                    tap = null;
                }
                else if (!used.TryAdd("tap:" + tap, $"{wp}.tap")) { r.Error($"{wp}.tap", tap, $"is already cabled by {used["tap:" + tap]}"); tap = null; }
                if (tap is not null) b = ("tap", tap, null);
            }
            else b = Endpoint(r, w, "b", wp, hosts, switches);
            var delay = w.ContainsKey("delay") ? r.Duration(w, "delay", wp) : TimeSpan.Zero;
            var netemAb = NetemSpec(r, w, "netem-a-to-b", wp, tap);
            var netemBa = NetemSpec(r, w, "netem-b-to-a", wp, tap);
            if (a is null || b is null) continue;
            if (a.Value.Port is not null && b.Value.Port is not null && a.Value.Host == b.Value.Host)
            {
                r.Error($"{wp}.b", $"{b.Value.Host}/{b.Value.Device}", $"cables switch '{a.Value.Host}' to itself");
                continue;
            }
            foreach (var (end, key) in tap is null ? new[] { (a.Value, "a"), (b.Value, "b") } : new[] { (a.Value, "a") })
            {
                var id = $"{end.Host}/{end.Device}";
                if (!used.TryAdd(id, $"{wp}.{key}")) r.Error($"{wp}.{key}", id, $"is already cabled by {used[id]}");
            }
            result.Add(new WireSettings(a.Value.Host, a.Value.Device, b.Value.Host, b.Value.Device, delay)
            {
                SwitchPortA = a.Value.Port, SwitchPortB = b.Value.Port, Tap = tap,
                NetemAToB = netemAb, NetemBToA = netemBa,
            });
        }
        return result.ToImmutable();
    }

    private static (string Host, string Device, int? Port)? Endpoint(Reader r, Dictionary<string, object?> w, string key, string wp,
        ImmutableArray<HostSettings> hosts, ImmutableArray<SwitchSettings> switches)
    {
        if (!w.TryGetValue(key, out var v) || v is not string s) { r.Error($"{wp}.{key}", v, "must be \"host/device\" or \"switch/portN\""); return null; }
        var parts = s.Split('/');
        if (parts.Length != 2) { r.Error($"{wp}.{key}", s, "must be \"host/device\" or \"switch/portN\""); return null; }
        if (switches.FirstOrDefault(x => x.Name == parts[0]) is { } sw)
        {
            if (!parts[1].StartsWith("port", StringComparison.Ordinal)
                || !int.TryParse(parts[1].AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port < 1 || port > sw.Ports || parts[1] != $"port{port}")
            {
                r.Error($"{wp}.{key}", s, $"switch '{sw.Name}' has ports port1 to port{sw.Ports}");
                return null;
            }
            return (parts[0], parts[1], port);
        }
        var host = hosts.FirstOrDefault(h => h.Name == parts[0]);
        if (host is null) { r.Error($"{wp}.{key}", s, $"unknown host '{parts[0]}'"); return null; }
        if (host.Devices.All(d => d.Name != parts[1])) { r.Error($"{wp}.{key}", s, $"host '{parts[0]}' has no device '{parts[1]}'"); return null; }
        return (parts[0], parts[1], null);
    }

    private static readonly string[] PktgenKeys =
    [
        "type", "host", "device", "count", "pkt_size", "ratep", "flows", "flowlen", "burst", "src_mac", "dst_mac",
        "src_min", "src_max", "dst_min", "dst_max", "udp_src_min", "udp_src_max", "udp_dst_min", "udp_dst_max", "ttl", "flow_random", "seed"
    ];

    private static ImmutableArray<WorkloadSettings> ReadWorkloads(Reader r, Dictionary<string, object?> sc, string sp,
        ImmutableArray<HostSettings> hosts, int seed)
    {
        var result = ImmutableArray.CreateBuilder<WorkloadSettings>();
        if (!sc.TryGetValue("workloads", out var wv) || wv is null) return result.ToImmutable();
        if (wv is not List<object?> list) { r.Error($"{sp}.workloads", wv, "must be a list"); return result.ToImmutable(); }
        for (int i = 0; i < list.Count; i++)
        {
            var wp = $"{sp}.workloads[{i}]";
            if (list[i] is not Dictionary<string, object?> w) { r.Error(wp, list[i], "must be an object"); continue; }
            var type = w.TryGetValue("type", out var t) ? t as string : null;
            var hostName = w.TryGetValue("host", out var hn) ? hn as string : null;
            var host = hosts.FirstOrDefault(h => h.Name == hostName);
            if (host is null) r.Error($"{wp}.host", hostName, "unknown host");
            switch (type)
            {
                case "pktgen":
                {
                    r.KnownKeys(w, wp, PktgenKeys);
                    var devName = w.TryGetValue("device", out var dn) ? dn as string : null;
                    var dev = host?.Devices.FirstOrDefault(d => d.Name == devName);
                    if (host is not null && dev is null) r.Error($"{wp}.device", devName, $"host '{hostName}' has no such device");
                    var src = dev?.Addresses.FirstOrDefault().Address ?? Ipv4Address.Any;
                    var srcMin = w.ContainsKey("src_min") ? r.Address(w, "src_min", wp) : src;
                    var dstMin = r.Address(w, "dst_min", wp);
                    var p = new PktgenSettings
                    {
                        Count = r.Long(w, "count", wp, 0, long.MaxValue, 1000),
                        PktSize = r.Int(w, "pkt_size", wp, PktgenSettings.MinPktSize, PktgenSettings.MaxPktSize, 64),
                        RatePps = r.Long(w, "ratep", wp, 0, 1_000_000_000, 0),
                        Flows = r.Int(w, "flows", wp, 1, PktgenSettings.MaxFlows, 1),
                        FlowLen = r.Int(w, "flowlen", wp, 1, int.MaxValue, 1),
                        Burst = r.Int(w, "burst", wp, 1, 1024, 1),
                        SrcMac = w.ContainsKey("src_mac") ? r.Mac(w["src_mac"] as string ?? "", $"{wp}.src_mac") : dev?.Mac ?? default,
                        DstMac = w.ContainsKey("dst_mac") ? r.Mac(w["dst_mac"] as string ?? "", $"{wp}.dst_mac") : MacAddress.Broadcast,
                        SrcMin = srcMin,
                        SrcMax = w.ContainsKey("src_max") ? r.Address(w, "src_max", wp) : srcMin,
                        DstMin = dstMin,
                        DstMax = w.ContainsKey("dst_max") ? r.Address(w, "dst_max", wp) : dstMin,
                        UdpSrcMin = (ushort)r.Int(w, "udp_src_min", wp, 0, 65535, 9),
                        UdpSrcMax = (ushort)r.Int(w, "udp_src_max", wp, 0, 65535, w.ContainsKey("udp_src_min") ? r.Int(w, "udp_src_min", wp, 0, 65535, 9) : 9),
                        UdpDstMin = (ushort)r.Int(w, "udp_dst_min", wp, 0, 65535, 9),
                        UdpDstMax = (ushort)r.Int(w, "udp_dst_max", wp, 0, 65535, w.ContainsKey("udp_dst_min") ? r.Int(w, "udp_dst_min", wp, 0, 65535, 9) : 9),
                        Ttl = (byte)r.Int(w, "ttl", wp, 1, 255, 32),
                        FlowRandom = w.ContainsKey("flow_random") && r.Bool(w, "flow_random", wp),
                        Seed = w.ContainsKey("seed") ? r.Int(w, "seed", wp, int.MinValue, int.MaxValue) : seed,
                    };
                    foreach (var e in p.Validate()) r.Errors.Add($"{wp}.{e}");
                    if (dev is not null && p.PktSize > dev.MaxFrame) r.Error($"{wp}.pkt_size", p.PktSize, $"exceeds {devName}'s MTU {dev.Mtu} plus headers");
                    result.Add(new PktgenWorkload(hostName ?? "", devName ?? "", p));
                    break;
                }
                case "udp-sink":
                {
                    r.KnownKeys(w, wp, ["type", "host", "bind", "batch", "rcvbuf"]);
                    var bind = w.TryGetValue("bind", out var b) ? b as string : null;
                    Ipv4Address addr = default;
                    ushort port = 0;
                    var colon = bind?.LastIndexOf(':') ?? -1;
                    if (bind is null || colon < 0 || !Ipv4Address.TryParse(bind[..colon], out addr)
                        || !ushort.TryParse(bind[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port == 0)
                        r.Error($"{wp}.bind", bind, "must be \"address:port\" with a port 1-65535");
                    result.Add(new UdpSinkSettings(hostName ?? "", addr, port,
                        Batch: r.Int(w, "batch", wp, 1, 1024, 64),
                        RcvBuf: r.Int(w, "rcvbuf", wp, 0, int.MaxValue / 2, 0)));
                    break;
                }
                case "ping":
                    result.Add(ReadPing(r, w, wp, hostName ?? ""));
                    break;
                case "traceroute":
                    result.Add(ReadTraceroute(r, w, wp, hostName ?? ""));
                    break;
                case "udp-echo-server":
                {
                    r.KnownKeys(w, wp, ["type", "host", "bind"]);
                    var (addr, port) = r.Endpoint(w, "bind", wp, allowAny: true);
                    result.Add(new UdpEchoServerSettings(hostName ?? "", addr, port));
                    break;
                }
                case "udp-echo-client":
                    result.Add(ReadUdpEchoClient(r, w, wp, hostName ?? ""));
                    break;
                case "tcp-bulk-server": result.Add(ReadTcpBulkServer(r, w, wp, hostName ?? "")); break;
                case "tcp-bulk-client": result.Add(ReadTcpBulkClient(r, w, wp, hostName ?? "")); break;
                case "tcp-rr-server": result.Add(ReadTcpRrServer(r, w, wp, hostName ?? "")); break;
                case "tcp-rr-client": result.Add(ReadTcpRrClient(r, w, wp, hostName ?? "")); break;
                default:
                    r.Error($"{wp}.type", type, "unknown workload type (known: pktgen, udp-sink, ping, traceroute, udp-echo-server, " +
                                                "udp-echo-client, tcp-bulk-server, tcp-bulk-client, tcp-rr-server, tcp-rr-client)");
                    break;
            }
        }
        return result.ToImmutable();
    }

    private static readonly CaptureSettings NoCapture = new(false, "", CaptureSettings.AnyDevice, "", PcapWriterDefaults.SnapLength);

    /// <summary>
    /// <c>scenario.capture</c>: one capture point (an object) or several (a list of them). Each: <c>enabled</c>,
    /// <c>host</c>, <c>device</c> (a device of the host, <c>any</c> for all of the host's, <c>all</c> for every device of
    /// every host, no <c>host</c>), <c>file</c> (distinct per point), <c>snaplen</c>, <c>format</c> (pcapng, pcap) and
    /// <c>tstamp-precision</c> (nano, micro).
    /// </summary>
    private static (CaptureSettings First, ImmutableArray<CaptureSettings> More) ReadCapture(Reader r, Dictionary<string, object?> sc, string sp,
        ImmutableArray<HostSettings> hosts)
    {
        var cp = $"{sp}.capture";
        if (!sc.TryGetValue("capture", out var cv) || cv is null) return (NoCapture, []);
        if (cv is Dictionary<string, object?> one) return (ReadCapturePoint(r, one, cp, hosts), []);
        if (cv is not List<object?> list) { r.Error(cp, cv, "must be an object or a list of objects"); return (NoCapture, []); }
        var points = new List<CaptureSettings>();
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is Dictionary<string, object?> c) points.Add(ReadCapturePoint(r, c, $"{cp}[{i}]", hosts));
            else r.Error($"{cp}[{i}]", list[i], "must be an object");
        }
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in points.Where(p => p.Enabled && p.File.Length > 0))
        {
            string full = Path.GetFullPath(p.File);
            if (files.TryGetValue(full, out var first)) r.Error($"{p.Key}.file", p.File, $"already written by {first}");
            else files[full] = p.Key;
        }
        return points.Count == 0 ? (NoCapture, []) : (points[0], [.. points.Skip(1)]);
    }

    private static CaptureSettings ReadCapturePoint(Reader r, Dictionary<string, object?> c, string cp, ImmutableArray<HostSettings> hosts)
    {
        r.KnownKeys(c, cp, ["enabled", "host", "device", "file", "snaplen", "format", "tstamp-precision"]);
        var enabled = !c.ContainsKey("enabled") || r.Bool(c, "enabled", cp);
        var host = c.TryGetValue("host", out var h) ? h as string ?? "" : "";
        var device = c.TryGetValue("device", out var d) ? d as string ?? CaptureSettings.AnyDevice : CaptureSettings.AnyDevice;
        var file = c.TryGetValue("file", out var f) ? f as string ?? "" : "";
        var format = CaptureFormat.PcapNg;
        if (c.TryGetValue("format", out var fv))
        {
            switch (fv as string)
            {
                case "pcapng": break;
                case "pcap": format = CaptureFormat.Pcap; break;
                default: r.Error($"{cp}.format", fv, "must be pcapng or pcap"); break;
            }
        }
        bool nano = format == CaptureFormat.PcapNg;
        if (c.TryGetValue("tstamp-precision", out var tv))
        {
            switch (tv as string)
            {
                case "nano": nano = true; break;
                case "micro": nano = false; break;
                default: r.Error($"{cp}.tstamp-precision", tv, "must be nano or micro"); break;
            }
        }
        if (enabled)
        {
            if (device == CaptureSettings.AllDevices)
            {
                if (host.Length > 0) r.Error($"{cp}.host", host, "device = all captures every device of every host: leave host out");
            }
            else
            {
                var hs = hosts.FirstOrDefault(x => x.Name == host);
                if (hs is null) r.Error($"{cp}.host", host, $"unknown host (known: {string.Join(", ", hosts.Select(x => x.Name))})");
                else if (device != CaptureSettings.AnyDevice && device != "lo" && hs.Devices.All(x => x.Name != device))
                    r.Error($"{cp}.device", device, $"host '{host}' has no such device (any: all of them; all: every host's)");
            }
            if (file.Length == 0) r.Error($"{cp}.file", file, "must name a file");
        }
        return new CaptureSettings(enabled, host, device, file,
            c.ContainsKey("snaplen") ? r.Int(c, "snaplen", cp, 64, 262144) : PcapWriterDefaults.SnapLength)
        {
            Format = format, Nanoseconds = nano, Key = cp,
        };
    }

    /// <summary>The capture writers' defaults, kept here since Config cannot see Hardware.</summary>
    private static class PcapWriterDefaults
    {
        /// <summary>tcpdump's MAXIMUM_SNAPLEN.</summary>
        public const int SnapLength = 262144;
    }

    private static bool IsName(string s) => s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_');

    /// <summary>Typed reads that record an error (key and bad value) instead of throwing.</summary>
    private sealed partial class Reader
    {
        public List<string> Errors { get; } = new();

        public void Error(string path, object? value, string message)
            => Errors.Add($"{path} = {Show(value)}: {message}");

        private static string Show(object? v) => v switch
        {
            null => "(missing)",
            string s => $"\"{s}\"",
            Dictionary<string, object?> => "{…}",
            List<object?> l => $"[{l.Count} items]",
            _ => v.ToString() ?? "",
        };

        public void KnownKeys(Dictionary<string, object?> d, string path, IEnumerable<string> known)
        {
            var set = known.ToHashSet();
            foreach (var k in d.Keys.Where(k => !set.Contains(k)))
                Errors.Add($"{path}.{k}: unknown key{Suggest(k, set)}");
        }

        public void KnownLeaves(Dictionary<string, object?> d, string path, Dictionary<string, object?> shape)
        {
            var known = ConfigTree.LeafPaths(shape).ToHashSet();
            foreach (var leaf in ConfigTree.LeafPaths(d).Where(l => !known.Contains(l)))
                Errors.Add($"{path}.{leaf}: unknown key{Suggest(leaf, known)}");
        }

        private static string Suggest(string k, IEnumerable<string> known)
        {
            var best = known.Select(c => (c, d: Distance(k, c))).OrderBy(x => x.d).FirstOrDefault();
            return best.c is not null && best.d <= Math.Max(2, k.Length / 3) ? $" (did you mean '{best.c}'?)" : $" (known: {string.Join(", ", known)})";
        }

        private static int Distance(string a, string b)
        {
            var dp = new int[a.Length + 1, b.Length + 1];
            for (int i = 0; i <= a.Length; i++) dp[i, 0] = i;
            for (int j = 0; j <= b.Length; j++) dp[0, j] = j;
            for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                dp[i, j] = Math.Min(Math.Min(dp[i - 1, j] + 1, dp[i, j - 1] + 1), dp[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            return dp[a.Length, b.Length];
        }

        private object? Leaf(Dictionary<string, object?> d, string key) => ConfigTree.Get(d, key);

        public int Int(Dictionary<string, object?> d, string key, string path, int min, int max, int? def = null)
            => (int)Long(d, key, path, min, max, def);

        public long Long(Dictionary<string, object?> d, string key, string path, long min, long max, long? def = null)
        {
            var v = Leaf(d, key);
            if (v is null && def is not null) return def.Value;
            if (v is not string s || !long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                Error($"{path}.{key}", v, "must be an integer");
                return def ?? min;
            }
            if (n < min || n > max)
            {
                Error($"{path}.{key}", v, $"must be between {min} and {max}");
                return def ?? Math.Clamp(n, min, max);
            }
            return n;
        }

        public bool Bool(Dictionary<string, object?> d, string key, string path)
        {
            var v = Leaf(d, key) as string;
            switch (v?.ToLowerInvariant())
            {
                case "on" or "true" or "yes": return true;
                case "off" or "false" or "no": return false;
                default: Error($"{path}.{key}", v, "must be on/off (true/false)"); return false;
            }
        }

        public TimeSpan Duration(Dictionary<string, object?> d, string key, string path)
        {
            var v = Leaf(d, key);
            if (v is string s && TryDuration(s, out var t)) return t;
            Error($"{path}.{key}", v, "must be a duration such as 500ms, 2s or 1m");
            return TimeSpan.Zero;
        }

        /// <summary>A time in whole nanoseconds ("60ns", "1.5us", "2ms"; TimeSpan's 100 ns ticks would round costs away).</summary>
        public long Nanoseconds(Dictionary<string, object?> d, string key, string path, long max)
        {
            var v = Leaf(d, key);
            if (v is string s && TryNanoseconds(s, out long ns) && ns <= max) return ns;
            Error($"{path}.{key}", v, $"must be a time such as 60ns, 1.5us or 2ms (at most {max} ns)");
            return 0;
        }

        public static bool TryNanoseconds(string s, out long ns)
        {
            ns = 0;
            s = s.Trim();
            int i = 0;
            while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.')) i++;
            if (i == 0 || !double.TryParse(s[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0) return false;
            double per = s[i..].Trim() switch
            {
                "ns" or "nanosecond" or "nanoseconds" => 1,
                "us" or "µs" or "microsecond" or "microseconds" => 1e3,
                "ms" or "millisecond" or "milliseconds" => 1e6,
                "s" or "second" or "seconds" => 1e9,
                _ => -1,
            };
            if (per < 0 || n * per > long.MaxValue / 2) return false;
            ns = (long)Math.Round(n * per);
            return true;
        }

        public static bool TryDuration(string s, out TimeSpan t)
        {
            t = default;
            s = s.Trim();
            int i = 0;
            while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.')) i++;
            if (i == 0 || !double.TryParse(s[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0) return false;
            double ticksPer = s[i..].Trim() switch
            {
                "ns" or "nanosecond" or "nanoseconds" => 0.01,
                "us" or "µs" or "microsecond" or "microseconds" => 10,
                "" or "ms" or "millisecond" or "milliseconds" => TimeSpan.TicksPerMillisecond,
                "s" or "second" or "seconds" => TimeSpan.TicksPerSecond,
                "m" or "minute" or "minutes" => TimeSpan.TicksPerMinute,
                "h" or "hour" or "hours" => TimeSpan.TicksPerHour,
                _ => -1,
            };
            if (ticksPer < 0) return false;
            t = TimeSpan.FromTicks((long)Math.Round(n * ticksPer));
            return true;
        }

        public MacAddress Mac(string s, string path)
        {
            if (MacAddress.TryParse(s, out var m)) return m;
            Error(path, s, "must be a MAC address like 02:00:00:00:00:01");
            return default;
        }

        public Ipv4Address Address(Dictionary<string, object?> d, string key, string path)
        {
            var v = Leaf(d, key);
            if (v is string s && Ipv4Address.TryParse(s, out var a)) return a;
            Error($"{path}.{key}", v, "must be an IPv4 address");
            return default;
        }

        public ImmutableArray<Ipv4Prefix> Prefixes(Dictionary<string, object?> d, string key, string path)
        {
            var v = Leaf(d, key);
            if (v is null) return ImmutableArray<Ipv4Prefix>.Empty;
            if (v is not List<object?> l) { Error($"{path}.{key}", v, "must be a list of \"a.b.c.d/len\""); return ImmutableArray<Ipv4Prefix>.Empty; }
            var b = ImmutableArray.CreateBuilder<Ipv4Prefix>();
            for (int i = 0; i < l.Count; i++)
            {
                if (l[i] is string s && Ipv4Prefix.TryParse(s, out var p) && !p.Address.IsAny && !p.Address.IsMulticast) b.Add(p);
                else Error($"{path}.{key}[{i}]", l[i], "must be a unicast IPv4 address with prefix length, like 10.0.0.1/24");
            }
            return b.ToImmutable();
        }

        public ImmutableArray<int> IntList(Dictionary<string, object?> d, string key, string path, int min, int max)
        {
            var v = Leaf(d, key);
            if (v is null) return ImmutableArray<int>.Empty;
            if (v is not List<object?> l) { Error($"{path}.{key}", v, "must be a list of integers"); return ImmutableArray<int>.Empty; }
            var b = ImmutableArray.CreateBuilder<int>();
            for (int i = 0; i < l.Count; i++)
            {
                if (l[i] is string s && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) b.Add(n);
                else Error($"{path}.{key}[{i}]", l[i], $"must be an integer between {min} and {max}");
            }
            return b.ToImmutable();
        }

        /// <summary>A sysfs CPU mask such as "3" or "ffffffff,00000001" (32-bit words, most significant first).</summary>
        public ImmutableArray<int> CpuMask(Dictionary<string, object?> d, string key, string path, int cpus)
        {
            var v = Leaf(d, key);
            var s = v as string;
            if (s is null) { Error($"{path}.{key}", v, "must be a hex CPU mask such as \"3\""); return ImmutableArray<int>.Empty; }
            if (!CpuMaskFormat.TryParse(s.Trim(), out var set))
            {
                Error($"{path}.{key}", s, "must be a hex CPU mask such as \"3\"");
                return ImmutableArray<int>.Empty;
            }
            if (set.Any(c => c >= cpus)) Error($"{path}.{key}", s, $"names CPU {set.Max()} but the host has {cpus} CPU(s)");
            return ImmutableArray.Create(set);
        }
    }
}
