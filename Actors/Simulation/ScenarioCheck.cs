using ActorStack.Actors.Routing;
using ActorStack.Config;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Actors.Simulation;

/// <summary>
/// The checks of a scenario that need the stack itself, run before anything starts (<c>check</c>, <c>run</c>,
/// <c>topology</c>): each host's FIB is built exactly as <see cref="NetNamespace"/> builds it (lo and every
/// device's addresses with <c>fib_add_ifaddr</c>, then the static routes in order), so a route the kernel would
/// refuse (<c>ip route add</c> failing with "Nexthop has invalid gateway", "Invalid prefsrc address", …) is a
/// configuration error naming its key, not a failure of a running host.
/// </summary>
public static class ScenarioCheck
{
    /// <summary>
    /// The FIB a host starts with. A route the FIB rejects is left out and, when <paramref name="errors"/> is given,
    /// reported as <c>KEY = "ROUTE": MESSAGE (ERRNO)</c> with the key of the route in <c>scenario.hosts</c>.
    /// </summary>
    public static Fib BuildFib(HostSettings host, ICollection<string>? errors = null)
    {
        var fib = new Fib();
        var lo = NetNamespace.LoopbackSettings;
        fib.RegisterDevice(lo.Name);
        foreach (var a in lo.Addresses) fib.AddAddress(lo.Name, a, loopback: true);
        foreach (var d in host.Devices)
        {
            fib.RegisterDevice(d.Name);
            foreach (var a in d.Addresses)
            {
                var st = fib.AddAddress(d.Name, a, loopback: false);
                if (!st.Ok) errors?.Add($"{StackConfig.Root}.scenario.hosts.{host.Name}.devices.{d.Name}.addresses = \"{a}\": {st.Message} ({st.Error})");
            }
        }
        for (int i = 0; i < host.Routes.Length; i++)
        {
            var r = host.Routes[i];
            var st = fib.AddRoute(r.Destination, r.Via, r.Device, r.Metric, RouteTypes.Parse(r.Type), src: r.Source);
            if (!st.Ok) errors?.Add($"{StackConfig.Root}.scenario.hosts.{host.Name}.routes[{i}] = \"{StackConfig.RouteText(r)}\": {st.Message} ({st.Error})");
        }
        return fib;
    }

    /// <summary>
    /// Every problem found: routes the FIB refuses and, when <paramref name="forRun"/>, workloads this build cannot
    /// start (<see cref="SimulationActor.Unavailable"/>), each naming its key.
    /// </summary>
    public static IReadOnlyList<string> Check(StackSettings s, bool forRun)
    {
        var errors = new List<string>();
        foreach (var h in s.Hosts) BuildFib(h, errors);
        FaultCheck.Check(s, errors);
        if (forRun)
            for (int i = 0; i < s.Workloads.Length; i++)
                if (SimulationActor.Unavailable(s.Workloads[i]) is { } why)
                    errors.Add($"{StackConfig.Root}.scenario.workloads[{i}].type = \"{WorkloadType(s.Workloads[i])}\": {why}");
        return errors;
    }

    /// <summary>Throws <see cref="StackConfigException"/> listing every problem <see cref="Check"/> finds.</summary>
    public static void Validate(StackSettings s, bool forRun)
    {
        var errors = Check(s, forRun);
        if (errors.Count > 0) throw new StackConfigException(errors);
    }

    /// <summary>The <c>type</c> a workload has in the configuration.</summary>
    public static string WorkloadType(WorkloadSettings w) => w switch
    {
        PktgenWorkload => "pktgen",
        UdpSinkSettings => "udp-sink",
        PingSettings => "ping",
        TracerouteSettings => "traceroute",
        UdpEchoServerSettings => "udp-echo-server",
        UdpEchoClientSettings => "udp-echo-client",
        TcpBulkServerSettings => "tcp-bulk-server",
        TcpBulkClientSettings => "tcp-bulk-client",
        TcpRrServerSettings => "tcp-rr-server",
        TcpRrClientSettings => "tcp-rr-client",
        _ => w.GetType().Name,
    };
}
