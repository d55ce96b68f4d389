using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>Per-device ARP settings (net.ipv4.conf.DEV.*), Linux defaults.</summary>
public sealed record ArpSettings
{
    /// <summary><c>arp_accept</c>: create entries from unsolicited replies and gratuitous ARP (0 = no).</summary>
    public bool ArpAccept { get; init; }
    /// <summary><c>drop_gratuitous_arp</c>.</summary>
    public bool DropGratuitousArp { get; init; }
    /// <summary><c>route_localnet</c>: allow 127/8 targets on non-loopback devices.</summary>
    public bool RouteLocalnet { get; init; }

    public static readonly ArpSettings Default = new();
}
