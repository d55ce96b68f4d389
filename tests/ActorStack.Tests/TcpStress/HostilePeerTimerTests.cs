using Akka.Actor;
using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Peers that stop the sender, on virtual time: a zero window for ever (persist timer, <c>tcp_probe_timer</c>) and a
/// peer that vanishes (RTO backoff, <c>tcp_write_timeout</c> after tcp_retries2).
/// </summary>
public class HostilePeerTimerTests() : TcpPeerKit("tcp-hostile")
{
    [Fact]
    public async Task ZeroWindowForever_ProbesBackOffToRtoMax_AnsweredProbesKeepConnection_SendBufferBounded()
    {
        await StartPeerHost();
        var s = await PeerConnects(5000, window: 0);
        var rto = (await Info(s)).Rto;
        var caller = Probe();
        var data = new byte[1 << 20];
        s.Tell(new SendTo(data), caller.Ref); // blocks: the send buffer fills, nothing may leave
        await HostSilent(); // a zero window: no data segment

        // tcp_probe0_when: the k-th probe comes rto << k after the previous, capped at TCP_RTO_MAX (120 s);
        // each is answered by the peer (ACK, window still 0), which resets icsk_probes_out but not the backoff.
        const int probes = 20; // beyond tcp_retries2 (15)
        for (int k = 0; k < probes; k++)
        {
            var gap = TimeSpan.FromTicks(Math.Min(rto.Ticks << k, TimeSpan.FromSeconds(120).Ticks));
            if (k < 10)
            {
                // The backoff, exactly: nothing a millisecond early, the probe on time.
                Advance(gap - TimeSpan.FromMilliseconds(1));
                await HostSilent();
                Advance(TimeSpan.FromMilliseconds(1));
            }
            else Advance(gap);
            var probe = await HostSends();
            Assert.Equal(HostNxt - 1, probe.Seq); // tcp_xmit_probe_skb: SND.UNA - 1, no data
            Assert.Equal(0, probe.Payload.Length);
            PeerSends(PeerSeg(TcpFlags.Ack, 5000, window: 0));
            Assert.Equal("ESTAB", (await Info(s)).State);
        }
        var info = await Info(s);
        Assert.Equal("ESTAB", info.State);
        // Memory stays bounded: the send buffer holds what sk_sndbuf allows and the send is still blocked.
        Assert.Equal(29_200, info.SendQueue);
        await ExpectNothingNow(caller);
        var st = await HostStats();
        Assert.Equal(probes, Ext(st, "TCPWinProbe"));
        Assert.Equal(0, Ext(st, "TCPAbortOnTimeout"));
        Assert.Equal(0, Snmp(st, "RetransSegs"));
        Assert.Equal(1, Snmp(st, "CurrEstab"));

        // The window opens: the blocked data flows again.
        PeerSends(PeerSeg(TcpFlags.Ack, 5000, window: 65535));
        var seg = await HostSends();
        Assert.Equal(HostNxt, seg.Seq);
        Assert.Equal(1460, seg.Payload.Length); // one full segment (the peer's MSS)
    }

    [Fact]
    public async Task PeerVanishes_RtoBacksOffExponentially_ThenEtimedoutAfterRetries2_BlockedRecvFails()
    {
        await StartPeerHost();
        var s = await PeerConnects(5001);
        var rto = (await Info(s)).Rto;
        // RTT 0 on virtual time: RTO = TCP_RTO_MIN plus the one-tick (100 ns) RTT sample.
        Assert.Equal(TimeSpan.FromMilliseconds(200) + TimeSpan.FromTicks(1), rto);
        var reader = Probe();
        s.Tell(new StreamRecv(), reader.Ref);
        Assert.IsType<Sent>(await Ask<object>(s, new SendTo(new byte[1000])));
        var first = await HostSends();
        Assert.Equal(1000, first.Payload.Length);
        // Each Advance below comes after the socket has finished the turn that sent the segment (an Ask it answers
        // after that turn), so its RTO timer is armed on the clock before the clock moves.
        await Info(s);

        // The peer is gone: nothing is ever ACKed. Retransmissions at 0.2, 0.6, 1.4 ... s (RTO doubling, capped at
        // 120 s), 15 of them (tcp_retries2); tcp_write_timeout gives up once tcp_model_timeout(15, TCP_RTO_MIN) =
        // (2^10 - 1) * 0.2 s + 6 * 120 s = 924.6 s have passed since the first transmission.
        var elapsed = TimeSpan.Zero;
        for (int k = 0; k < 15; k++)
        {
            var gap = TimeSpan.FromTicks(Math.Min(rto.Ticks << k, TimeSpan.FromSeconds(120).Ticks));
            Advance(gap - TimeSpan.FromMilliseconds(1));
            await HostSilent();
            Advance(TimeSpan.FromMilliseconds(1));
            elapsed += gap;
            var again = await HostSends();
            Assert.Equal(first.Seq, again.Seq);
            Assert.Equal(1000, again.Payload.Length);
            await Info(s);
        }
        Assert.Equal(TimeSpan.FromTicks(1023 * rto.Ticks) + TimeSpan.FromSeconds(600), elapsed); // (2^10 - 1) RTOs, then 5 x 120 s
        Assert.Equal("ESTAB", (await Info(s)).State);
        Advance(TimeSpan.FromSeconds(120) - TimeSpan.FromMilliseconds(1));
        await ExpectNothingNow(reader);
        Advance(TimeSpan.FromMilliseconds(1)); // 924.6 s
        Assert.Equal(Errno.ETIMEDOUT, (await Expect<CommandFailed>(reader)).Error);
        await HostSilent(); // no RST: the peer is unreachable anyway (tcp_write_err)
        var st = await HostStats();
        Assert.Equal(15, Snmp(st, "RetransSegs"));
        Assert.Equal(15, Ext(st, "TCPTimeouts"));
        Assert.Equal(1, Ext(st, "TCPAbortOnTimeout"));
        Assert.Equal(0, Snmp(st, "CurrEstab"));
        Assert.Equal(0, Snmp(st, "OutRsts"));
    }
}
