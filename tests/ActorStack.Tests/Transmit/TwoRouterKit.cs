using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Tests.Transmit;

/// <summary>
/// a (10.0.1.1) — r1 — (10.0.2.0/24, MTU <c>midMtu</c>) — r2 — b (10.0.3.1): two ip_forward routers, static routes,
/// permanent neighbours on every link, plain cables. On the real clock; <c>Support/VirtualNetKit.BuildTwoRouters</c> is the
/// same network on the engine (ForwardingTests); this kit stays for TcpIcmpErrorTests.
/// </summary>
public abstract class TwoRouterKit(string name) : NetHarness(name)
{
    protected static readonly SysctlSettings Router = new() { IpForward = true };

    protected sealed record Net(Started A, Started R1, Started R2, Started B);

    /// <summary>
    /// Starts and cables the four hosts. r1 gets <paramref name="r1ExtraRoutes"/> after its route to 10.0.3.0/24 and
    /// <paramref name="r1Rules"/> as its netfilter rules.
    /// </summary>
    protected async Task<Net> BuildTwoRouters(int midMtu = 1500, IReadOnlyList<RouteSettings>? r1ExtraRoutes = null,
        IReadOnlyList<NfRule>? r1Rules = null)
    {
        var a = await Start(HostOf("a", null, Dev("eth0", 1, "10.0.1.1/24")) with
        {
            Neighbours = [Neigh("10.0.1.254", 11, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.1.254")],
        });
        var r1 = await Start(HostOf("r1", Router, Dev("eth0", 11, "10.0.1.254/24"), Dev("eth1", 12, "10.0.2.1/24") with { Mtu = midMtu }) with
        {
            Neighbours = [Neigh("10.0.1.1", 1, "eth0"), Neigh("10.0.2.2", 21, "eth1")],
            Routes = [Route("10.0.3.0/24", via: "10.0.2.2"), .. r1ExtraRoutes ?? []],
            Netfilter = [.. r1Rules ?? []],
        });
        var r2 = await Start(HostOf("r2", Router, Dev("eth0", 21, "10.0.2.2/24") with { Mtu = midMtu }, Dev("eth1", 22, "10.0.3.254/24")) with
        {
            Neighbours = [Neigh("10.0.2.1", 12, "eth0"), Neigh("10.0.3.1", 3, "eth1")],
            Routes = [Route("10.0.1.0/24", via: "10.0.2.1")],
        });
        var b = await Start(HostOf("b", null, Dev("eth0", 3, "10.0.3.1/24")) with
        {
            Neighbours = [Neigh("10.0.3.254", 22, "eth0")],
            Routes = [Route("0.0.0.0/0", via: "10.0.3.254")],
        });
        Cable(a.Devices["eth0"], r1.Devices["eth0"]);
        Cable(r1.Devices["eth1"], r2.Devices["eth0"]);
        Cable(r2.Devices["eth1"], b.Devices["eth0"]);
        return new Net(a, r1, r2, b);
    }
}
