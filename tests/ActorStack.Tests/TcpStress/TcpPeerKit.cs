using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Tests.LinkState;
using ActorStack.Actors.Namespaces;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// One host (10.0.0.1, eth0) on virtual time whose cable is a probe: the test is the TCP peer 10.0.0.9. It reads the
/// segments the host sends (answering each batch with TX completion) and injects hand-made segments into the NIC,
/// so every sequence number is known and any segment (hostile ones too) can be sent. The peer offers only MSS 1460
/// (no timestamps, SACK or window scaling), so the host's segments carry no options either.
/// </summary>
public abstract class TcpPeerKit(string name) : TcpActors.TcpHostKit(name)
{
    protected static readonly Ipv4Address HostAddr = Ipv4Address.Parse("10.0.0.1");
    protected static readonly Ipv4Address PeerAddr = SilentPeer;
    protected const ushort PeerPort = 40000;

    protected IActorRef HostRef = ActorRefs.Nobody;
    protected IActorRef Nic = ActorRefs.Nobody;
    protected TestProbe Wire = null!;
    private readonly Queue<TcpSegment> _seen = new();

    /// <summary>The peer's next sequence number and the host's (what the peer ACKs).</summary>
    protected TcpSeq PeerNxt, HostNxt;

    protected async Task StartPeerHost()
    {
        HostRef = await StartHost(silentPeer: true); // the peer is a permanent neighbour: no ARP on the probe wire
        var devs = await Ask<HostDevices>(HostRef, GetHostDevices.Instance);
        Nic = devs.Devices["eth0"];
        var h = new Host(HostRef, devs.Devices, null);
        Wire = await AttachProbeWire(h);
    }

    /// <summary>Injects a segment from the peer into the host's NIC.</summary>
    protected void PeerSends(TcpSegment seg, Action<byte[]>? corrupt = null)
        => Nic.Tell(new WireFrames([TcpStressKit.TcpFrame(seg, Mac(10), Mac(99), PeerAddr, HostAddr, corrupt)]));

    protected TcpSegment PeerSeg(TcpFlags flags, ushort hostPort, TcpSeq? seq = null, byte[]? data = null, ushort window = 65535)
        => new()
        {
            SourcePort = PeerPort, DestinationPort = hostPort, Seq = seq ?? PeerNxt, Ack = (flags & TcpFlags.Ack) != 0 ? HostNxt : default,
            Flags = flags, Window = window, Payload = data ?? ReadOnlyMemory<byte>.Empty,
        };

    /// <summary>The next TCP segment the host put on the wire, there once everything due now has run.</summary>
    protected async Task<TcpSegment> HostSends()
    {
        while (_seen.Count == 0)
        {
            var w = await Expect<WireFrames>(Wire);
            Take(w);
        }
        return _seen.Dequeue();
    }

    /// <summary>Asserts the host sends nothing once everything due now has run (the clock does not move).</summary>
    protected async Task HostSilent()
    {
        Assert.Empty(_seen);
        Engine.RunUntilIdle();
        var (ok, env) = await Wire.TryReceiveOneAsync(TimeSpan.Zero);
        if (ok && env.Message is WireFrames w)
        {
            Take(w);
            Assert.Fail($"unexpected segment {_seen.Peek()}");
        }
    }

    private void Take(WireFrames w)
    {
        Nic.Tell(new WireTxDone(w.Count), Wire.Ref);
        foreach (var f in w.Frames)
        {
            var span = f.Span;
            if (span.Length < EthernetHeader.Length + Ipv4Header.MinLength) continue;
            if (((span[12] << 8) | span[13]) != EtherType.Ipv4 || span[EthernetHeader.Length + 9] != (byte)IpProtocol.Tcp) continue;
            int ihl = (span[EthernetHeader.Length] & 0xF) * 4;
            int total = (span[EthernetHeader.Length + 2] << 8) | span[EthernetHeader.Length + 3];
            var tcp = f.Slice(EthernetHeader.Length + ihl, total - ihl);
            Assert.Equal(TcpParseError.None, TcpSegment.TryParse(tcp, HostAddr, PeerAddr, out var seg));
            _seen.Enqueue(seg!);
        }
    }

    /// <summary>
    /// The peer connects to a listener on <paramref name="port"/> (SYN, SYN-ACK, ACK with <paramref name="window"/>)
    /// and the host accepts: returns the host's connected socket. Sequence numbers are tracked in PeerNxt / HostNxt.
    /// </summary>
    protected async Task<IActorRef> PeerConnects(ushort port, ushort window = 65535)
    {
        var l = (await Ask<SocketCreated>(HostRef, new SocketCreate(SockType.Stream))).Socket;
        Assert.IsType<SocketOk>(await Ask<object>(l, new Bind(Ipv4Address.Any, port)));
        Assert.IsType<SocketOk>(await Ask<object>(l, new Listen(8)));
        PeerNxt = new TcpSeq(1_000_000);
        PeerSends(PeerSeg(TcpFlags.Syn, port) with { Options = new TcpOptions { Mss = 1460 } });
        PeerNxt += 1;
        var synAck = await HostSends();
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(PeerNxt, synAck.Ack);
        HostNxt = synAck.Seq + 1;
        PeerSends(PeerSeg(TcpFlags.Ack, port, window: window));
        var acc = await Ask<Accepted>(l, new Accept());
        return acc.Socket;
    }

    protected async Task<HostStats> HostStats() => await Ask<HostStats>(HostRef, GetStats.Instance);

    protected async Task<TcpSocketInfo> Info(IActorRef s) => await Ask<TcpSocketInfo>(s, GetSocketInfo.Instance);

    protected static long Snmp(HostStats s, string c) => s.Mib("Tcp")[c];
    protected static long Ext(HostStats s, string c) => s.Mib("TcpExt")[c];

    /// <summary>Checks the host's counters once everything due now has run (the clock does not move).</summary>
    protected async Task StatsNow(Action<HostStats> check) => check(await HostStats());
}
