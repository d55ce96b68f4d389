using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Hostile and malformed segments through <c>tcp_v4_rcv</c> into a listener and an established connection (RFC 5961,
/// Linux's counters and drop reasons); after all of it the connection still carries data both ways.
/// </summary>
public class BadInputTests() : TcpPeerKit("tcp-badin")
{
    private const int TcpOff = EthernetHeader.Length + Ipv4Header.MinLength;
    private static readonly byte[] Junk = [9, 9, 9, 9];

    [Fact]
    public async Task MalformedSegments_CountedAsTcpV4Rcv_NothingDelivered()
    {
        await StartPeerHost();
        var s = await PeerConnects(6000);
        var before = await HostStats();

        // Bad checksum: csum_error, InCsumErrors + InErrs, no answer.
        PeerSends(PeerSeg(TcpFlags.Ack | TcpFlags.Psh, 6000, data: Junk), f => f[TcpOff + 16] ^= 0x5A);
        await StatsNow(st =>
        {
            Assert.Equal(1, Snmp(st, "InCsumErrors"));
            Assert.Equal(1, Snmp(st, "InErrs"));
            Assert.Equal(1, st.DropsOf(DropReason.TCP_CSUM));
        });
        // Data offset below 5 words: bad_packet, InErrs, PKT_TOO_SMALL.
        PeerSends(PeerSeg(TcpFlags.Ack | TcpFlags.Psh, 6000, data: Junk), f => f[TcpOff + 12] = 4 << 4);
        await StatsNow(st =>
        {
            Assert.Equal(2, Snmp(st, "InErrs"));
            Assert.Equal(1, st.DropsOf(DropReason.PKT_TOO_SMALL));
        });
        // Data offset beyond the segment (60 bytes of header claimed in 24): pskb_may_pull fails, discard_it (no InErrs).
        PeerSends(PeerSeg(TcpFlags.Ack | TcpFlags.Psh, 6000, data: Junk), f => f[TcpOff + 12] = 15 << 4);
        await StatsNow(st =>
        {
            Assert.Equal(before.TotalDrops + 3, st.TotalDrops);
            Assert.Equal(2, Snmp(st, "InErrs"));
            Assert.Equal(1, Snmp(st, "InCsumErrors"));
        });
        await HostSilent();
        Assert.Equal(0, (await Info(s)).RecvQueue);
        // Refused before the socket lookup, but counted: tcp_v4_rcv counts InSegs "even if it's bad", before its checks.
        Assert.Equal(Snmp(before, "InSegs") + 3, Snmp(await HostStats(), "InSegs"));
    }

    [Fact]
    public async Task IllegalFlags_SynFinToListener_NoFlagsOnConnection_DroppedAsTcpFlags()
    {
        await StartPeerHost();
        var s = await PeerConnects(6001);
        // SYN+FIN to a listener (another source port): tcp_rcv_state_process in LISTEN discards it, no SYN-ACK, no child.
        PeerSends(PeerSeg(TcpFlags.Syn | TcpFlags.Fin, 6001) with { SourcePort = 40001, Options = new TcpOptions { Mss = 1460 } });
        // No flags at all on the connection: tcp_validate_incoming step 5 (no ACK) discards it.
        PeerSends(PeerSeg(0, 6001, data: Junk));
        await StatsNow(st => Assert.Equal(2, st.DropsOf(DropReason.TCP_FLAGS)));
        await HostSilent();
        var st = await HostStats();
        Assert.Equal(1, Snmp(st, "PassiveOpens"));
        Assert.Equal(0, Snmp(st, "OutRsts"));
        Assert.Equal(0, (await Info(s)).RecvQueue);
        Assert.Equal(2, st.Sockets.Count(k => k.Type == SockType.Stream)); // the listener and the one connection
    }

    [Fact]
    public async Task OutOfWindowAndBlindInjection_DupAcksAndChallengeAcks_ConnectionSurvivesAndTransfers()
    {
        await StartPeerHost();
        var s = await PeerConnects(6002);

        // Out-of-window data: a duplicate ACK, TCP_OVERWINDOW. (Linux's tcp_oow_rate_limited never limits segments that
        // carry data; the TCB limits them like pure ACKs, which TcbStressTests relies on: so one at a time here.)
        PeerSends(PeerSeg(TcpFlags.Ack, 6002, seq: PeerNxt + 10_000_000, data: Junk));
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        PeerSends(PeerSeg(TcpFlags.Ack, 6002, seq: PeerNxt + 10_000_000, data: Junk));
        await StatsNow(st => Assert.Equal(2, st.DropsOf(DropReason.TCP_OVERWINDOW)));
        await HostSilent();
        // Out-of-window pure ACKs: one duplicate ACK per tcp_invalid_ratelimit (500 ms), the rest TCPACKSkippedSeq.
        Advance(TimeSpan.FromSeconds(1));
        PeerSends(PeerSeg(TcpFlags.Ack, 6002, seq: PeerNxt + 10_000_000));
        PeerSends(PeerSeg(TcpFlags.Ack, 6002, seq: PeerNxt + 10_000_000));
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        await StatsNow(st =>
        {
            Assert.Equal(4, st.DropsOf(DropReason.TCP_OVERWINDOW));
            Assert.Equal(2, Ext(st, "TCPACKSkippedSeq"));
        });
        await HostSilent();

        // Blind RST, in the window but not at RCV.NXT (RFC 5961 3.2): a challenge ACK, the connection stays.
        Advance(TimeSpan.FromSeconds(1));
        PeerSends(PeerSeg(TcpFlags.Rst, 6002, seq: PeerNxt + 1000));
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        Assert.Equal("ESTAB", (await Info(s)).State);

        // Blind SYN on the established connection (RFC 5961 4.2): a challenge ACK, the connection stays.
        Advance(TimeSpan.FromSeconds(1));
        PeerSends(PeerSeg(TcpFlags.Syn, 6002, seq: PeerNxt + 5000) with { Options = new TcpOptions { Mss = 1460 } });
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        Assert.Equal("ESTAB", (await Info(s)).State);

        // Blind data with an old sequence number: dropped (duplicate ACK), nothing queued.
        Advance(TimeSpan.FromSeconds(1));
        PeerSends(PeerSeg(TcpFlags.Ack | TcpFlags.Psh, 6002, seq: PeerNxt - 100_000, data: Junk));
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        await HostSilent();

        var st = await HostStats();
        Assert.Equal(2, Ext(st, "TCPChallengeACK"));
        Assert.Equal(1, Ext(st, "TCPSYNChallenge"));
        Assert.Equal(1, st.DropsOf(DropReason.TCP_RESET));
        Assert.Equal(1, st.DropsOf(DropReason.TCP_INVALID_SYN));
        Assert.Equal(0, Snmp(st, "EstabResets"));
        Assert.Equal(1, Snmp(st, "CurrEstab"));
        Assert.Equal(0, (await Info(s)).RecvQueue);

        // Still a working connection: data in (read by the user, ACKed) and out.
        var hello = "hello"u8.ToArray();
        PeerSends(PeerSeg(TcpFlags.Ack | TcpFlags.Psh, 6002, data: hello));
        PeerNxt += hello.Length;
        var d = Assert.IsType<StreamData>(await Ask<object>(s, new StreamRecv()));
        Assert.Equal(hello, d.Data.ToArray());
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        Assert.IsType<Sent>(await Ask<object>(s, new SendTo("world"u8.ToArray())));
        var w = await HostSends();
        Assert.Equal(HostNxt, w.Seq);
        Assert.Equal("world"u8.ToArray(), w.Payload.ToArray());
    }

    [Fact]
    public async Task BlindRsts_BackToBack_OneChallengeAckPerRateLimit_RestSkipped()
    {
        await StartPeerHost();
        var s = await PeerConnects(6003);
        // A RST flood in the window: tcp_send_challenge_ack is limited per socket (tcp_invalid_ratelimit 500 ms).
        for (int i = 0; i < 10; i++) PeerSends(PeerSeg(TcpFlags.Rst, 6003, seq: PeerNxt + 100 + i));
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        await StatsNow(st => Assert.Equal(10, st.DropsOf(DropReason.TCP_RESET)));
        await HostSilent();
        var st = await HostStats();
        Assert.Equal(1, Ext(st, "TCPChallengeACK"));
        Assert.Equal(9, Ext(st, "TCPACKSkippedChallenge"));
        // After the limit's interval the next one is answered again; the exact RST still resets.
        Advance(TimeSpan.FromMilliseconds(500));
        PeerSends(PeerSeg(TcpFlags.Rst, 6003, seq: PeerNxt + 7));
        Assert.Equal((PeerNxt, HostNxt), await AckOf(await HostSends()));
        Assert.Equal("ESTAB", (await Info(s)).State);
        var reader = Probe();
        s.Tell(new StreamRecv(), reader.Ref);
        PeerSends(PeerSeg(TcpFlags.Rst, 6003));
        Assert.Equal(Errno.ECONNRESET, (await Expect<CommandFailed>(reader)).Error);
        await StatsNow(st2 =>
        {
            Assert.Equal(2, Ext(st2, "TCPChallengeACK"));
            Assert.Equal(1, Snmp(st2, "EstabResets"));
        });
    }

    private static Task<(TcpSeq Ack, TcpSeq Seq)> AckOf(TcpSegment seg)
    {
        Assert.Equal(TcpFlags.Ack, seg.Flags);
        Assert.Equal(0, seg.Payload.Length);
        return Task.FromResult((seg.Ack, seg.Seq));
    }
}
