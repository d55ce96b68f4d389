using ActorStack.Actors.Tcp;
using static ActorStack.Tests.Tcp.TcpPair;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>
/// Send-buffer growth (<c>tcp_sndbuf_expand</c>), receive-buffer auto-tuning (<c>tcp_rcv_space_adjust</c>) and TCP
/// small queues (<c>tcp_small_queue_check</c>), on the plain TCB pair.
/// </summary>
public class TcpAutotuneTests
{
    [Fact]
    public void Buffers_NotSetByTheUser_GrowWithTheTransfer_SetOnesStay()
    {
        var p = new TcpPair(); // 10 ms RTT, neither buffer set
        p.ToSendA = RandomBytes(4 << 20, 31);
        p.Establish();
        p.RunFor(TimeSpan.FromSeconds(20));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
        var d = TcpSettings.Default;
        Assert.InRange(p.A.SendBufferLimit, d.WmemDefault + 1, d.WmemMax);
        Assert.InRange(p.B.ReceiveBufferLimit, d.RmemDefault + 1, d.RmemMax);

        // SO_SNDBUF / SO_RCVBUF given (SOCK_SNDBUF_LOCK / SOCK_RCVBUF_LOCK): no auto-tuning.
        var q = new TcpPair(sndBuf: 65536, rcvBufB: 131072);
        q.ToSendA = RandomBytes(4 << 20, 31);
        q.Establish();
        q.RunFor(TimeSpan.FromSeconds(20));
        Assert.Equal(q.ToSendA, q.ReadB.ToArray());
        Assert.Equal(65536, q.A.SendBufferLimit);
        Assert.Equal(131072, q.B.ReceiveBufferLimit);
    }

    [Fact]
    public void SmallQueues_HostQueueFull_NoNewData_TxCompletionReleasesIt()
    {
        var p = new TcpPair();
        p.Establish();
        // Before any RTT sample the limit is two full GSO packets' truesize.
        Assert.Equal(2L * (65536 + 576), p.A.TsqLimit());
        p.A.HostQueuedBytes = p.A.TsqLimit() + 1;
        int before = p.Trace.Count;
        p.ToSendA = RandomBytes(50_000, 32);
        p.Flush();
        Assert.DoesNotContain(p.Trace.Skip(before), x => x.FromA && x.Seg.Payload.Length > 0);
        Assert.True(p.A.TsqThrottled);

        p.A.HostQueuedBytes = 0; // the TX completion (WmemFree) returned the charge: tcp_tsq_handler
        p.A.XmitPending(p.Now);
        Assert.False(p.A.TsqThrottled);
        p.Flush();
        Assert.Contains(p.Trace.Skip(before), x => x.FromA && x.Seg.Payload.Length > 0);
        p.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(p.ToSendA, p.ReadB.ToArray());
    }
}
