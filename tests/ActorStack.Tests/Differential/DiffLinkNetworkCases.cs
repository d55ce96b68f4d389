using ActorStack.Messages.Packets;
using ActorStack.Tests.Tap;
using Xunit.Abstractions;
using static ActorStack.Tests.Differential.DiffFrames;

namespace ActorStack.Tests.Differential;

/// <summary>
/// Differential cases for Ethernet, ARP, the IPv4 header (damage and options) and ICMP: each is replayed into a
/// Linux namespace and into the simulated host, and their answers and counter deltas are compared (see
/// <see cref="DiffRig"/>). Tester addresses 192.0.2.10 onwards, one per case.
/// </summary>
[Collection(KernelTapCollection.Name)]
public sealed class DiffLinkNetworkCases(DiffRig rig, ITestOutputHelper output) : IClassFixture<DiffRig>
{
    private static readonly string[] IpIn = ["Ip.InReceives", "Ip.InDelivers", "Ip.InHdrErrors", "Ip.InAddrErrors", "Icmp.InEchos", "Icmp.OutEchoReps"];
    private static readonly MacAddress OtherMac = MacAddress.Parse("02:00:00:00:00:99");

    private static byte[] Arp(DiffExchange x, ushort op, Ipv4Address sender, Ipv4Address target, MacAddress? ethDst = null, Action<byte[]>? damage = null)
    {
        var f = TapFrames.Arp(op, ethDst ?? MacAddress.Broadcast, TesterMac, sender, op == ArpPacket.OpRequest ? MacAddress.Zero : VictimMac, target);
        damage?.Invoke(f);
        return f;
    }

    private static byte[] EchoIp(DiffExchange x, Action<byte[]>? damage = null, bool recheck = false, byte[]? options = null, byte ttl = 64,
        Ipv4Address? src = null, Ipv4Address? dst = null)
        => Ip(src ?? x.Me, dst ?? x.Victim, IpProtocol.Icmp, IcmpPacket.EchoRequest(1, 1, Bytes(16)), ttl: ttl, options: options, damage: damage, recheck: recheck);

    /// <summary>The echo reply to <see cref="EchoIp"/> without options.</summary>
    private const string EchoReply = "victim>tester ip 192.0.2.2>ME v4 hl=20 tos=0x00 len=44 ttl=64 icmp t=0 c=0 id=1 seq=1 data=000102030405060708090A0B0C0D0E0F";

    public const string NoIpOptions = "IPv4 options are not processed on input (no ip_options_compile, ip_options_rcv_srr or ip_options_echo): "
        + "a malformed option gets no Parameter Problem, a source-routed packet is delivered (Linux drops it: accept_source_route 0), "
        + "options are not echoed in replies";

    public const string TimestampReplyCount = "Linux 6.18 counts its timestamp reply under OutEchoReps (IcmpMsg OutType0, measured), "
        + "not OutTimestampReps; the simulation counts it by its type (icmp_out_count(type 14))";

    public const string BroadcastLoop = "Linux accepts the subnet broadcast address as a source and, its echo reply going to the broadcast address, "
        + "loops a copy back to itself (ip_mc_output → dev_loopback_xmit for RTN_BROADCAST: one more InReceives, InDelivers, InEchoReps); "
        + "the simulation does not loop broadcast output back";

    /// <summary>A malformed option: Linux answers Parameter Problem (pointer in <paramref name="rest"/>) and drops; the simulation echoes.</summary>
    private static DiffDifference[] ParameterProblemNotSent(string rest) =>
    [
        new($"victim>tester ip 192.0.2.2>ME v4 hl=20 tos=0xc0 len=76 ttl=64 icmp t=12 c=0 {rest}", EchoReply, NoIpOptions),
        new("Ip.InDelivers +1", "Ip.InDelivers +2", NoIpOptions),
        new("Ip.InHdrErrors +1", "Ip.InHdrErrors 0", NoIpOptions),
        new("Icmp.InEchos +1", "Icmp.InEchos +2", NoIpOptions),
        new("Icmp.OutEchoReps +1", "Icmp.OutEchoReps +2", NoIpOptions),
        new("Icmp.OutParmProbs +1", "Icmp.OutParmProbs 0", NoIpOptions),
    ];

    public static readonly DiffCase[] Cases =
    [
        // Ethernet
        new("eth-unicast-to-another-mac", IpIn, x => { x.SendIp(EchoIp(x), OtherMac); return Task.CompletedTask; }),
        new("eth-broadcast-mac-unicast-ip", IpIn, x => { x.SendIp(EchoIp(x), MacAddress.Broadcast); return Task.CompletedTask; }),
        new("eth-unknown-ethertype", IpIn, x => { x.Send(Eth(Bytes(46), 0x88B5)); return Task.CompletedTask; }),
        new("eth-vlan-tagged-echo", IpIn, x =>
        {
            var ip = EchoIp(x);
            var f = Eth([0x00, 0x05, 0x08, 0x00, .. ip], EtherType.Vlan);
            x.Send(f);
            return Task.CompletedTask;
        }),
        new("eth-header-only-ipv4", IpIn, x => { x.Send(Eth([])); return Task.CompletedTask; }),

        // ARP
        new("arp-request-for-victim", [], x => { x.Send(Arp(x, ArpPacket.OpRequest, x.Me, x.Victim)); return Task.CompletedTask; }, DiffSentinel.Arp),
        new("arp-request-unicast-to-victim-mac", [], x => { x.Send(Arp(x, ArpPacket.OpRequest, x.Me, x.Victim, VictimMac)); return Task.CompletedTask; }, DiffSentinel.Arp),
        new("arp-request-for-another-address", [], x => { x.Send(Arp(x, ArpPacket.OpRequest, x.Me, Ipv4Address.Parse("192.0.2.77"))); return Task.CompletedTask; }, DiffSentinel.Arp),
        new("arp-gratuitous-request", [], x => { x.Send(Arp(x, ArpPacket.OpRequest, x.Me, x.Me)); return Task.CompletedTask; }, DiffSentinel.Arp),
        new("arp-unsolicited-reply", [], x => { x.Send(Arp(x, ArpPacket.OpReply, x.Me, x.Victim, VictimMac)); return Task.CompletedTask; }, DiffSentinel.Arp),
        new("arp-hardware-length-7", [], x => { x.Send(Arp(x, ArpPacket.OpRequest, x.Me, x.Victim, damage: f => f[18] = 7)); return Task.CompletedTask; }, DiffSentinel.Arp),
        new("arp-unknown-opcode-9", [], x => { x.Send(Arp(x, 9, x.Me, x.Victim)); return Task.CompletedTask; }, DiffSentinel.Arp),
        new("arp-truncated-20-bytes", [], x => { x.Send(Arp(x, ArpPacket.OpRequest, x.Me, x.Victim)[..34]); return Task.CompletedTask; }, DiffSentinel.Arp),

        // IPv4 header damage
        new("ip-bad-header-checksum", [.. IpIn, "IpExt.InCsumErrors"], x => { x.SendIp(EchoIp(x, p => p[10] ^= 0xFF)); return Task.CompletedTask; }),
        new("ip-version-6", IpIn, x => { x.SendIp(EchoIp(x, p => p[0] = 0x65, recheck: true)); return Task.CompletedTask; }),
        new("ip-ihl-4", IpIn, x => { x.SendIp(EchoIp(x, p => p[0] = 0x44, recheck: true)); return Task.CompletedTask; }),
        new("ip-total-length-beyond-frame", [.. IpIn, "IpExt.InTruncatedPkts"], x => { x.SendIp(EchoIp(x, p => p[3] += 40, recheck: true)); return Task.CompletedTask; }),
        new("ip-total-length-below-header", [.. IpIn, "IpExt.InTruncatedPkts"], x => { x.SendIp(EchoIp(x, p => { p[2] = 0; p[3] = 19; }, recheck: true)); return Task.CompletedTask; }),
        new("ip-ethernet-trailer-trimmed", IpIn, x => { x.SendIp([.. EchoIp(x), .. new byte[10]]); return Task.CompletedTask; }),
        new("ip-ttl-0-to-local", IpIn, x => { x.SendIp(EchoIp(x, ttl: 0)); return Task.CompletedTask; }),
        new("ip-ttl-1-to-local", IpIn, x => { x.SendIp(EchoIp(x, ttl: 1)); return Task.CompletedTask; }),
        new("ip-to-another-host-no-forwarding", IpIn, x => { x.SendIp(EchoIp(x, dst: Ipv4Address.Parse("192.0.2.77"))); return Task.CompletedTask; }),
        new("ip-martian-source-loopback", IpIn, x => { x.SendIp(EchoIp(x, src: Ipv4Address.Parse("127.0.0.1"))); return Task.CompletedTask; }),
        new("ip-source-subnet-broadcast", [.. IpIn, "Icmp.InEchoReps"], x => { x.SendIp(EchoIp(x, src: Ipv4Address.Parse("192.0.2.255"))); return Task.CompletedTask; })
        {
            Differences =
            [
                new("Ip.InReceives +3", "Ip.InReceives +2", BroadcastLoop),
                new("Ip.InDelivers +3", "Ip.InDelivers +2", BroadcastLoop),
                new("Icmp.InEchoReps +1", "Icmp.InEchoReps 0", BroadcastLoop),
            ],
        },
        new("ip-unknown-protocol-253", [.. IpIn, "Ip.InUnknownProtos", "Icmp.OutDestUnreachs"],
            x => { x.SendIp(Ip(x.Me, x.Victim, 253, Bytes(12))); return Task.CompletedTask; }),
        new("ip-fragment-offset-in-reserved-flag", IpIn, x => { x.SendIp(EchoIp(x, p => p[6] |= 0x80, recheck: true)); return Task.CompletedTask; }),

        // IPv4 options
        new("ipopt-nop-nop-nop-eol", IpIn, x => { x.SendIp(EchoIp(x, options: [1, 1, 1, 0])); return Task.CompletedTask; }),
        new("ipopt-record-route-echo", IpIn, x => { x.SendIp(EchoIp(x, options: [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])); return Task.CompletedTask; })
        {
            Differences = [new("victim>tester ip 192.0.2.2>ME v4 hl=32 tos=0x00 len=56 ttl=64 opts=070B0CC0000202C000020200 icmp t=0", EchoReply, NoIpOptions)],
        },
        new("ipopt-router-alert-echo", IpIn, x => { x.SendIp(EchoIp(x, options: [148, 4, 0, 0])); return Task.CompletedTask; }),
        new("ipopt-length-1-parameter-problem", [.. IpIn, "Icmp.OutParmProbs"], x => { x.SendIp(EchoIp(x, options: [7, 1, 0, 0])); return Task.CompletedTask; })
        { Differences = ParameterProblemNotSent("rest=0x14000000") },
        new("ipopt-length-beyond-header", [.. IpIn, "Icmp.OutParmProbs"], x => { x.SendIp(EchoIp(x, options: [7, 12, 4, 0])); return Task.CompletedTask; })
        { Differences = ParameterProblemNotSent("rest=0x14000000") },
        new("ipopt-loose-source-route-refused", IpIn, x =>
        {
            x.SendIp(EchoIp(x, options: [131, 7, 4, 192, 0, 2, 77, 0]));
            return Task.CompletedTask;
        })
        {
            Differences =
            [
                new(null, EchoReply, NoIpOptions),
                new("Ip.InDelivers +1", "Ip.InDelivers +2", NoIpOptions),
                new("Icmp.InEchos +1", "Icmp.InEchos +2", NoIpOptions),
                new("Icmp.OutEchoReps +1", "Icmp.OutEchoReps +2", NoIpOptions),
            ],
        },
        new("ipopt-timestamp-full-overflow", [.. IpIn, "Icmp.OutParmProbs"], x => { x.SendIp(EchoIp(x, options: [68, 4, 5, 0xF0])); return Task.CompletedTask; })
        { Differences = ParameterProblemNotSent("rest=0x17000000") },

        // ICMP
        new("icmp-echo", IpIn, x => { x.Echo(7, 1); return Task.CompletedTask; }),
        new("icmp-echo-1400-bytes", IpIn, x => { x.Echo(7, 2, Bytes(1400)); return Task.CompletedTask; }),
        new("icmp-echo-code-5", IpIn, x =>
        {
            var m = IcmpPacket.EchoRequest(7, 3, Bytes(8));
            m[1] = 5;
            IcmpPacket.WriteHeader(m, IcmpType.Echo, 5, 7u << 16 | 3);
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, m));
            return Task.CompletedTask;
        }),
        new("icmp-echo-bad-checksum", [.. IpIn, "Icmp.InErrors", "Icmp.InCsumErrors", "Icmp.InMsgs"], x =>
        {
            var m = IcmpPacket.EchoRequest(7, 4, Bytes(8));
            m[2] ^= 0x55;
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, m));
            return Task.CompletedTask;
        }),
        new("icmp-truncated-4-bytes", [.. IpIn, "Icmp.InErrors", "Icmp.InMsgs"], x =>
        {
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, [8, 0, 0xF7, 0xFF]));
            return Task.CompletedTask;
        }),
        new("icmp-echo-to-subnet-broadcast-ignored", IpIn, x =>
        {
            x.Echo(7, 5, dst: Ipv4Address.Parse("192.0.2.255"), mac: MacAddress.Broadcast);
            return Task.CompletedTask;
        }),
        new("icmp-timestamp-request", [.. IpIn, "Icmp.InTimestamps", "Icmp.OutTimestampReps"], x =>
        {
            var m = new byte[20];
            IcmpPacket.WriteHeader(m, 13, 0, 7u << 16 | 6);
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, m));
            return Task.CompletedTask;
        })
        {
            Differences =
            [
                new("Icmp.OutEchoReps +2", "Icmp.OutEchoReps +1", TimestampReplyCount),
                new("Icmp.OutTimestampReps 0", "Icmp.OutTimestampReps +1", TimestampReplyCount),
            ],
        },
        new("icmp-unknown-type-42", [.. IpIn, "Icmp.InMsgs", "Icmp.InErrors"], x =>
        {
            var m = new byte[12];
            IcmpPacket.WriteHeader(m, 42, 0, 0);
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, m));
            return Task.CompletedTask;
        }),
        new("icmp-address-mask-request-ignored", [.. IpIn, "Icmp.InMsgs", "Icmp.InAddrMasks"], x =>
        {
            var m = new byte[12];
            IcmpPacket.WriteHeader(m, 17, 0, 0);
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, m));
            return Task.CompletedTask;
        }),
        new("icmp-port-unreachable-for-no-socket", [.. IpIn, "Icmp.InMsgs", "Icmp.InDestUnreachs", "Icmp.InErrors"], x =>
        {
            var quoted = Ip(x.Victim, x.Me, IpProtocol.Udp, DiffFrames.Udp(x.Victim, x.Me, 40000, 53, Bytes(4)));
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, IcmpPacket.DestUnreach(IcmpCode.PortUnreach, quoted)!));
            return Task.CompletedTask;
        }),
        new("icmp-echo-reply-unsolicited", [.. IpIn, "Icmp.InMsgs", "Icmp.InEchoReps"], x =>
        {
            var m = IcmpPacket.EchoRequest(9, 9, Bytes(8));
            IcmpPacket.WriteHeader(m, IcmpType.EchoReply, 0, 9u << 16 | 9);
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Icmp, m));
            return Task.CompletedTask;
        }),
    ];

    public static TheoryData<string> Names => new(Cases.Select(c => c.Name));

    [DiffTheory, MemberData(nameof(Names))]
    public Task Case(string name) => rig.Run(Cases, name, output);
}
