using ActorStack.Actors.Tcp;
using ActorStack.Config;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Tcp;

/// <summary>
/// The duplicate-ACK threshold pinned exactly (<c>tcp_time_to_recover</c>: <c>tcp_dupack_heuristics</c> &gt;
/// <c>tp-&gt;reordering</c> = 3): the first segment of a flight is lost; three duplicate ACKs start fast retransmit
/// (NewReno, no SACK) one RTT after the flight, two do not (the hole waits for a timer).
/// </summary>
public class DupThreshTests
{
    [Theory]
    [InlineData(3, 1)]
    [InlineData(2, 0)]
    [InlineData(4, 1)]
    public void Reno_ThreeDupAcksFastRetransmit_TwoDoNot(int dupAcks, int fastRetransmits)
    {
        var s = new TcpSettings { Sack = false };
        var p = new TcpPair(s, s, sndBuf: 262144);
        p.Establish();
        // B's scaled window is announced first (an ACK whose window grew is a window update, not a dupack:
        // tcp_may_update_window → FLAG_WIN_UPDATE, as after the SYN-ACK's unscaled 65,535).
        p.ToSendA = new byte[10];
        p.RunFor(TimeSpan.FromMilliseconds(100));
        int mss = p.A.Mss;
        int n = 0;
        p.Drop = (fromA, seg, _) => fromA && seg.Payload.Length > 0 && ++n == 1;
        p.ToSendA = new byte[mss * (dupAcks + 1)];
        // The flight leaves at once (initial cwnd 10); B's duplicate ACKs are back one RTT (2 × 5 ms) later.
        p.RunFor(TimeSpan.FromMilliseconds(12));
        Assert.Equal(fastRetransmits, p.A.FastRetransmits);
        Assert.Equal(fastRetransmits, p.MibA[TcpExtMib.TCPRenoRecovery]);
    }
}
