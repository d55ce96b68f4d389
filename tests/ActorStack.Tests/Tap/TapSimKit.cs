using System.Net;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.LinkWatch;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Tap;

/// <summary>
/// What the tests of a whole simulated host against the kernel through a TAP share (<see cref="TcpInteropTests"/>,
/// <see cref="ActorStack.Tests.Interop.TapInteropTests"/>): the addresses on both sides (the kernel 192.0.2.1/24 on
/// the TAP inside the test's namespace, the simulated host "sim" 192.0.2.2/24 on its eth0), the host's start, the
/// TAP's bring-up and stop, and reading the namespace's <c>/proc/net/snmp</c>.
/// </summary>
public static class TapSimKit
{
    /// <summary>One kernel or actor call; only a failing test waits this long.</summary>
    public static readonly TimeSpan Io = Timeouts.Wall;
    public static readonly Ipv4Address KernelIp = Ipv4Address.Parse("192.0.2.1");
    public static readonly Ipv4Address SimIp = Ipv4Address.Parse("192.0.2.2");
    public static readonly MacAddress SimMac = MacAddress.Parse("02:00:00:00:00:02");
    public static readonly IPAddress KernelAddr = IPAddress.Parse("192.0.2.1");
    public static readonly IPAddress SimAddr = IPAddress.Parse("192.0.2.2");

    /// <summary>The simulated host "sim" (seed 1, eth0 <see cref="SimMac"/> <see cref="SimIp"/>/24) and its NIC.</summary>
    public static async Task<(IActorRef Host, IActorRef Nic)> StartSimHost(TestKitBase kit)
    {
        var dev = new DeviceSettings("eth0", SimMac, Addresses: [new Ipv4Prefix(SimIp, 24)]);
        var host = kit.Sys.ActorOf(HostActor.Props(new HostSettings("sim", 1, new SysctlSettings(), [dev]), seed: 1), "sim");
        var nic = (await host.Ask<HostDevices>(GetHostDevices.Instance, Io)).Devices["eth0"];
        return (host, nic);
    }

    /// <summary>
    /// Waits until <paramref name="link"/> has opened its TAP, attaches <paramref name="cable"/> to the NIC, then
    /// addresses the kernel side (<see cref="KernelIp"/>/24 on <paramref name="tapName"/>) and brings it up.
    /// </summary>
    public static async Task<TapLinkStats> BringUpTap(Netns ns, string tapName, IActorRef link, IActorRef nic, IActorRef cable)
    {
        var stats = await link.Ask<TapLinkStats>(GetTapLinkStats.Instance, Io); // the device is open
        nic.Tell(new AttachWire(cable));
        ns.Ip("addr", "add", $"{KernelIp}/24", "dev", tapName);
        ns.Ip("link", "set", tapName, "up");
        return stats;
    }

    /// <summary>Stops the TAP link and waits until it has (its device closed).</summary>
    public static async Task StopLink(TestKitBase kit, IActorRef link)
    {
        kit.Watch(link);
        kit.Sys.Stop(link);
        await kit.ExpectTerminatedAsync(link, Io);
    }

    /// <summary><paramref name="n"/> bytes of a deterministic stream seeded by <paramref name="seed"/>.</summary>
    public static byte[] Pattern(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>One line pair of the namespace's <c>/proc/net/snmp</c> (read from a thread inside it), by counter name.</summary>
    public static Dictionary<string, long> KernelSnmp(Netns ns, string mib)
    {
        var lines = ns.Run(() => File.ReadAllLines("/proc/thread-self/net/snmp"));
        var rows = lines.Where(l => l.StartsWith(mib + ":", StringComparison.Ordinal)).ToArray();
        var names = rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
        var values = rows[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
        return names.Zip(values).ToDictionary(p => p.First, p => long.Parse(p.Second));
    }
}
