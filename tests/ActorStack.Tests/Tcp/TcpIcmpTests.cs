using ActorStack.Actors.Tcp;
using ActorStack.Messages;
using ActorStack.Config;

namespace ActorStack.Tests.Tcp;

/// <summary>Tcb.IcmpError (tcp_v4_err): the sequence check, hard errors in SYN_SENT, soft errors later.</summary>
public sealed class TcpIcmpTests
{
    [Theory]
    [InlineData(3, 3, Errno.ECONNREFUSED)]  // port unreachable
    [InlineData(3, 0, Errno.ENETUNREACH)]
    [InlineData(3, 1, Errno.EHOSTUNREACH)]
    [InlineData(3, 13, Errno.EHOSTUNREACH)] // administratively filtered
    [InlineData(11, 0, Errno.EHOSTUNREACH)] // time exceeded
    [InlineData(12, 0, Errno.EPROTO)]
    public void IcmpError_SynSent_ConnectFailsWithConvertedErrno(byte type, byte code, Errno expected)
    {
        var p = new TcpPair();
        p.A.Connect(p.Now);
        Assert.Equal(TcpIcmpVerdict.HardError, p.A.IcmpError(type, code, p.A.Iss, p.Now));
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(expected, p.A.Error);
        Assert.Contains(new TcpEvent(TcpEventKind.Error, expected), p.A.Events);
        Assert.Equal(1, p.MibA[TcpMib.AttemptFails]);
    }

    [Fact]
    public void IcmpError_SeqOutsideSndUnaSndNxt_IgnoredAndCountedOutOfWindowIcmps()
    {
        var p = new TcpPair();
        p.A.Connect(p.Now);
        Assert.Equal(TcpIcmpVerdict.Ignored, p.A.IcmpError(3, 3, p.A.Iss + 5000, p.Now));
        Assert.Equal(TcpState.SynSent, p.A.State);
        Assert.Equal(1, p.MibA[TcpExtMib.OutOfWindowIcmps]);
    }

    [Fact]
    public void IcmpError_Established_SoftErrorReportedWhenConnectionTimesOut()
    {
        var p = new TcpPair();
        p.Establish();
        p.Drop = (fromA, _, _) => fromA; // the path is gone
        p.ToSendA = TcpPair.RandomBytes(1000, 1);
        p.Flush();
        Assert.Equal(TcpIcmpVerdict.SoftError, p.A.IcmpError(3, 1, p.A.SndUna, p.Now));
        Assert.Equal(TcpState.Established, p.A.State);
        Assert.Equal(Errno.OK, p.A.Error);
        Assert.Equal(Errno.EHOSTUNREACH, p.A.SoftError);
        p.RunFor(TimeSpan.FromMinutes(30)); // tcp_retries2 15: about 924.6 s
        Assert.Equal(TcpState.Closed, p.A.State);
        Assert.Equal(Errno.EHOSTUNREACH, p.A.Error); // tcp_write_err: sk_err_soft ?: ETIMEDOUT
    }

    [Fact]
    public void MtuReduced_LargerOrEqualMtu_Ignored()
    {
        var p = new TcpPair();
        p.A.SyncMss(1500);
        p.Establish();
        Assert.False(p.A.MtuReduced(1500, p.Now));
        Assert.Equal(1448, p.A.Mss);
        Assert.True(p.A.MtuReduced(576, p.Now));
        Assert.Equal(576 - 52, p.A.Mss);
    }
}
