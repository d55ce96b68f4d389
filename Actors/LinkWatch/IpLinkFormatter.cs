using System.Text;

namespace ActorStack.Actors.LinkWatch;

/// <summary>
/// <c>ip -o link show</c> lines, as iproute2's <c>print_linkinfo</c> /
/// <c>print_link_flags</c> (ip/ipaddress.c) print them, e.g.
/// <c>2: eth0: &lt;NO-CARRIER,BROADCAST,MULTICAST,UP&gt; mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000</c>.
/// </summary>
public static class IpLinkFormatter
{
    // print_link_flags: _PF() order after NO-CARRIER; RUNNING is never printed by name.
    private static readonly (NetDeviceFlags Flag, string Name)[] FlagOrder =
    [
        (NetDeviceFlags.IFF_LOOPBACK, "LOOPBACK"),
        (NetDeviceFlags.IFF_BROADCAST, "BROADCAST"),
        (NetDeviceFlags.IFF_POINTOPOINT, "POINTOPOINT"),
        (NetDeviceFlags.IFF_MULTICAST, "MULTICAST"),
        (NetDeviceFlags.IFF_NOARP, "NOARP"),
        (NetDeviceFlags.IFF_ALLMULTI, "ALLMULTI"),
        (NetDeviceFlags.IFF_PROMISC, "PROMISC"),
        (NetDeviceFlags.IFF_NOTRAILERS, "NOTRAILERS"),
        (NetDeviceFlags.IFF_DEBUG, "DEBUG"),
        (NetDeviceFlags.IFF_DYNAMIC, "DYNAMIC"),
        (NetDeviceFlags.IFF_AUTOMEDIA, "AUTOMEDIA"),
        (NetDeviceFlags.IFF_PORTSEL, "PORTSEL"),
        (NetDeviceFlags.IFF_MASTER, "MASTER"),
        (NetDeviceFlags.IFF_SLAVE, "SLAVE"),
        (NetDeviceFlags.IFF_UP, "UP"),
        (NetDeviceFlags.IFF_LOWER_UP, "LOWER_UP"),
        (NetDeviceFlags.IFF_DORMANT, "DORMANT"),
        (NetDeviceFlags.IFF_ECHO, "ECHO"),
    ];

    /// <summary><c>print_link_flags</c>: "&lt;...&gt;"; NO-CARRIER when UP without RUNNING.</summary>
    public static string FormatFlags(NetDeviceFlags flags)
    {
        var names = new List<string>();
        if ((flags & NetDeviceFlags.IFF_UP) != 0 && (flags & NetDeviceFlags.IFF_RUNNING) == 0)
            names.Add("NO-CARRIER");
        foreach (var (flag, name) in FlagOrder)
            if ((flags & flag) != 0) names.Add(name);
        return "<" + string.Join(',', names) + ">";
    }

    /// <summary>
    /// One line per device, without the link/ether part when the device has no
    /// address. A stacked device shows its lower device as <c>@name</c> when
    /// <paramref name="ifName"/> resolves the ifindex (same namespace), else <c>@ifN</c>.
    /// </summary>
    public static string Format(LinkSnapshot l, Func<int, string?>? ifName = null)
    {
        var sb = new StringBuilder();
        sb.Append(l.IfIndex).Append(": ").Append(l.Name);
        if (l.IfLink is { } iflink && iflink != l.IfIndex)
        {
            var lower = ifName?.Invoke(iflink);
            sb.Append('@').Append(lower ?? "if" + iflink);
        }
        sb.Append(": ").Append(FormatFlags(l.Flags))
          .Append(" mtu ").Append(l.Mtu)
          .Append(" qdisc ").Append(l.Qdisc)
          .Append(" state ").Append(l.OperState)
          .Append(" mode ").Append(l.LinkMode)
          .Append(" group default qlen ").Append(l.TxQueueLen);
        if (l.Address is { } mac)
        {
            bool loop = (l.Flags & NetDeviceFlags.IFF_LOOPBACK) != 0;
            sb.Append(loop ? @"\    link/loopback " : @"\    link/ether ").Append(mac)
              .Append(" brd ").Append(loop ? "00:00:00:00:00:00" : "ff:ff:ff:ff:ff:ff");
        }
        return sb.ToString();
    }

    /// <summary>
    /// <c>ip -s link</c> style carrier counter line as <c>ip -s -s link</c>
    /// prints it under TX ("carrier_changes" is <c>IFLA_CARRIER_CHANGES</c>).
    /// </summary>
    public static string FormatCarrierStats(LinkSnapshot l)
        => $"carrier_changes {l.CarrierChanges} carrier_up_count {l.CarrierUpCount} carrier_down_count {l.CarrierDownCount}";
}
