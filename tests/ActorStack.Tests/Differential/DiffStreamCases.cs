using System.Text;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Tap;
using Xunit.Abstractions;
using static ActorStack.Tests.Differential.DiffFrames;

namespace ActorStack.Tests.Differential;

/// <summary>
/// Differential cases for TCP: flags and options at closed ports and listeners, the handshake's SYN-ACK, RFC 5961
/// blind RST/SYN/data and old ACKs, a zero window and the victim's probes, TIME_WAIT (the victim closes first after
/// echoing "bye"), and last a SYN flood past the backlog of the never-accepting listener on 80, answered by cookies.
/// Every connection a case opens it resets at the end. Tester addresses 192.0.2.10 onwards. See <see cref="DiffRig"/>.
/// </summary>
[Collection(KernelTapCollection.Name)]
public sealed class DiffStreamCases(DiffRig rig, ITestOutputHelper output) : IClassFixture<DiffRig>
{
    private static readonly string[] TcpIn = ["Tcp.PassiveOpens", "Tcp.AttemptFails", "Tcp.EstabResets", "Tcp.InSegs", "Tcp.OutSegs",
        "Tcp.RetransSegs", "Tcp.InErrs", "Tcp.OutRsts", "Tcp.InCsumErrors", "TcpExt.TCPChallengeACK", "TcpExt.TCPSYNChallenge"];
    private static readonly string[] Cookies = [.. TcpIn, "TcpExt.SyncookiesSent", "TcpExt.SyncookiesRecv", "TcpExt.SyncookiesFailed",
        "TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDoCookies", "TcpExt.TCPReqQFullDrop"];

    private const ushort Closed = 4444;
    private static readonly ushort Me = DiffExchange.MyPort();
    private const uint Isn = 1000;

    private static Task Segment(DiffExchange x, ushort dport, uint seq, uint ack, TcpFlags flags, byte[]? options = null, byte[]? payload = null, ushort window = 29200)
    {
        x.Tcp(Me, dport, seq, ack, flags, window, options, payload);
        return Task.CompletedTask;
    }

    /// <summary>A connection to the echo service, then <paramref name="body"/>(victim's next seq, its TSval, my next seq), then a RST that ends it.</summary>
    private static async Task OnConnection(DiffExchange x, Func<uint, uint, uint, Task<uint>> body)
    {
        var (v, ts) = await x.Handshake(Me, DiffServices.Echo);
        uint mine = await body(v, ts, Isn + 1);
        x.Tcp(Me, DiffServices.Echo, mine, 0, TcpFlags.Rst, 0);
    }

    private const string Ack1001 = "victim>tester ip 192.0.2.2>ME v4 hl=20 tos=0x00 len=52 DF ttl=64 tcp 7>40000 [.] seq=isn+1 ack=1001 win=510 opts=[nop,nop,ts ecr ";

    public const string CookieOptions = "a cookie SYN-ACK carries the MSS only (window 64240); Linux, the SYN having timestamps, encodes window scale "
        + "and SACK in the TSval (cookie_init_timestamp) and sends every option (window 65160)";
    public const string TsRecentOldAck = "tcp_ack refuses an ACK older than snd_una - max_window before tcp_replace_ts_recent, so Linux's challenge ACK "
        + "echoes the previous TSval; the simulation takes the segment's TSval first";
    public const string UnsentAck = "an ACK of data never sent (RFC 5961 5.2): Linux 6.18 answers with a challenge ACK (TCPChallengeACK), "
        + "the simulation drops the segment silently";
    public const string TwFinTs = "a retransmitted FIN in TIME_WAIT: Linux acknowledges it without taking its TSval (tcp_timewait_state_process "
        + "updates tw_ts_recent only for an in-window bare segment); the simulation echoes the new TSval";

    private static DiffDifference Cookie(int port) => new(
        $"victim>tester ip 192.0.2.2>ME v4 hl=20 tos=0x00 len=60 DF ttl=64 tcp 80>{port} [S.] seq=isn+0 ack=1001 win=65160 opts=[mss 1460,sackOK,ts ecr 1000,nop,ws 7] len=0",
        $"victim>tester ip 192.0.2.2>ME v4 hl=20 tos=0x00 len=44 DF ttl=64 tcp 80>{port} [S.] seq=isn+0 ack=1001 win=64240 opts=[mss 1460] len=0", CookieOptions);

    public static readonly DiffCase[] Cases =
    [
        // Closed ports (tcp_v4_send_reset)
        new("tcp-syn-to-closed-port", TcpIn, x => Segment(x, Closed, Isn, 0, TcpFlags.Syn, SynOptions()), DiffSentinel.TcpClosed),
        new("tcp-syn-with-data-to-closed-port", TcpIn, x => Segment(x, Closed, Isn, 0, TcpFlags.Syn, payload: Bytes(10)), DiffSentinel.TcpClosed),
        new("tcp-ack-to-closed-port", TcpIn, x => Segment(x, Closed, Isn, 5555, TcpFlags.Ack), DiffSentinel.TcpClosed),
        new("tcp-fin-ack-to-closed-port", TcpIn, x => Segment(x, Closed, Isn, 5555, TcpFlags.Fin | TcpFlags.Ack), DiffSentinel.TcpClosed),
        new("tcp-rst-to-closed-port-no-answer", TcpIn, x => Segment(x, Closed, Isn, 0, TcpFlags.Rst), DiffSentinel.TcpClosed),
        // A segment with payload and no flags is one GRO holds (tcp_gro_receive flushes only on URG/PSH/RST/SYN/FIN): if
        // the sentinel's SYN lands in the same NAPI poll it goes up first (GRO_NORMAL onto rx_list, the held segment
        // after it at napi_complete_done), on Linux as in the simulation; veth has no GRO, the TAP NIC has. So the case
        // waits for its own RST before the sentinel is sent.
        new("tcp-no-flags-to-closed-port", TcpIn, async x =>
        {
            await Segment(x, Closed, Isn, 0, TcpFlags.None, payload: Bytes(4));
            await x.ExpectTcp(Me, Closed, "RST");
        }, DiffSentinel.TcpClosed),
        new("tcp-xmas-to-closed-port", TcpIn, x => Segment(x, Closed, Isn, 0, TcpFlags.Fin | TcpFlags.Urg | TcpFlags.Psh), DiffSentinel.TcpClosed),
        new("tcp-bad-checksum-dropped", TcpIn, x =>
        {
            var seg = DiffFrames.Tcp(x.Me, x.Victim, Me, Closed, Isn, 0, TcpFlags.Syn);
            seg[16] ^= 0x11;
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Tcp, seg));
            return Task.CompletedTask;
        }, DiffSentinel.TcpClosed),
        new("tcp-data-offset-below-5-dropped", TcpIn, x =>
        {
            var seg = DiffFrames.Tcp(x.Me, x.Victim, Me, Closed, Isn, 0, TcpFlags.Syn);
            seg[12] = 0x40;
            new TcpHeaderWriter(seg).FillChecksum(x.Me.Value, x.Victim.Value);
            x.SendIp(Ip(x.Me, x.Victim, IpProtocol.Tcp, seg));
            return Task.CompletedTask;
        }, DiffSentinel.TcpClosed),

        // Listeners
        new("tcp-syn-ack-with-linux-syn-options", TcpIn, async x =>
        {
            x.IgnoreRetransmissions = true; // the SYN-ACK's 1 s timer runs until the tester's RST
            await Segment(x, DiffServices.Echo, Isn, 0, TcpFlags.Syn, SynOptions());
            await x.ExpectTcp(Me, DiffServices.Echo, "SYN-ACK");
            await Segment(x, DiffServices.Echo, Isn + 1, 0, TcpFlags.Rst);
        }, DiffSentinel.TcpClosed),
        new("tcp-syn-ack-without-options", TcpIn, async x =>
        {
            x.IgnoreRetransmissions = true; // the SYN-ACK's 1 s timer runs until the tester's RST
            await Segment(x, DiffServices.Echo, Isn, 0, TcpFlags.Syn);
            await x.ExpectTcp(Me, DiffServices.Echo, "SYN-ACK");
            await Segment(x, DiffServices.Echo, Isn + 1, 0, TcpFlags.Rst);
        }, DiffSentinel.TcpClosed),
        new("tcp-syn-ack-mss-536-no-timestamps", TcpIn, async x =>
        {
            x.IgnoreRetransmissions = true; // the SYN-ACK's 1 s timer runs until the tester's RST
            await Segment(x, DiffServices.Echo, Isn, 0, TcpFlags.Syn, SynOptions(536, tsVal: null));
            await x.ExpectTcp(Me, DiffServices.Echo, "SYN-ACK");
            await Segment(x, DiffServices.Echo, Isn + 1, 0, TcpFlags.Rst);
        }, DiffSentinel.TcpClosed),
        new("tcp-syn-fin-to-listener-dropped", TcpIn, x => Segment(x, DiffServices.Echo, Isn, 0, TcpFlags.Syn | TcpFlags.Fin, SynOptions()), DiffSentinel.TcpClosed),
        new("tcp-rst-to-listener-ignored", TcpIn, x => Segment(x, DiffServices.Echo, Isn, 0, TcpFlags.Rst), DiffSentinel.TcpClosed),
        new("tcp-ack-to-listener-without-request", Cookies, async x =>
        {
            // The listener's own socket answers (tcp_rcv_state_process LISTEN: an ACK is reset), after a sentinel the TCP layer answers.
            await Segment(x, DiffServices.Listener, Isn, 777, TcpFlags.Ack);
            await x.ExpectTcp(Me, DiffServices.Listener, "RST from the listener");
        }, DiffSentinel.TcpClosed),

        // An established connection
        new("tcp-handshake-data-echoed", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            // The echo waits unacknowledged until the RST: its tail loss probe or RTO fires or not depending on how long
            // the tester takes, as in tcp-time-wait-after-victim-closes.
            x.IgnoreRetransmissions = true;
            await Segment(x, DiffServices.Echo, mine, v, TcpFlags.Psh | TcpFlags.Ack, TsOptions(1002, ts), Encoding.ASCII.GetBytes("hello"));
            while ((await x.ExpectTcp(Me, DiffServices.Echo, "the echo")).Len == 0) { }
            return mine + 5;
        }), DiffSentinel.TcpClosed),
        new("tcp-rfc5961-rst-in-window-not-exact-challenge-ack", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            await Segment(x, DiffServices.Echo, mine + 100, 0, TcpFlags.Rst);
            await x.ExpectTcp(Me, DiffServices.Echo, "challenge ACK");
            return mine;
        }), DiffSentinel.TcpClosed),
        new("tcp-rfc5961-rst-out-of-window-ignored", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            await Segment(x, DiffServices.Echo, mine + 10_000_000, 0, TcpFlags.Rst);
            return mine;
        }), DiffSentinel.TcpClosed),
        new("tcp-rfc5961-syn-on-established-challenge-ack", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            await Segment(x, DiffServices.Echo, mine + 500, 0, TcpFlags.Syn, SynOptions(tsVal: 1003));
            await x.ExpectTcp(Me, DiffServices.Echo, "challenge ACK");
            return mine;
        }), DiffSentinel.TcpClosed),
        new("tcp-rfc5961-data-with-old-ack-challenge-ack", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            await Segment(x, DiffServices.Echo, mine, v - 2_000_000_000, TcpFlags.Ack, TsOptions(1003, ts), Bytes(10));
            await x.ExpectTcp(Me, DiffServices.Echo, "challenge ACK");
            return mine;
        }), DiffSentinel.TcpClosed) { Differences = [new(Ack1001 + "1001]", Ack1001 + "1003] len=0", TsRecentOldAck)] },
        new("tcp-data-beyond-window-dup-ack", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            await Segment(x, DiffServices.Echo, mine + 3_000_000, v, TcpFlags.Ack, TsOptions(1003, ts), Bytes(10));
            await x.ExpectTcp(Me, DiffServices.Echo, "duplicate ACK");
            return mine;
        }), DiffSentinel.TcpClosed),
        new("tcp-ack-of-unsent-data", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            await Segment(x, DiffServices.Echo, mine, v + 100_000, TcpFlags.Ack, TsOptions(1003, ts));
            return mine;
        }), DiffSentinel.TcpClosed)
        {
            Differences =
            [
                new(Ack1001 + "1001]", null, UnsentAck),
                new("Tcp.OutSegs +3", "Tcp.OutSegs +2", UnsentAck),
                new("TcpExt.TCPChallengeACK +1", "TcpExt.TCPChallengeACK 0", UnsentAck),
            ],
        },
        new("tcp-zero-window-victim-probes", TcpIn, x => OnConnection(x, async (v, ts, mine) =>
        {
            // The tester's window is 0: the echo has 5 bytes to send and may not, so the victim probes (tcp_send_probe0).
            // A second probe, 400 ms after the first, leaves or not before the RST depending on the machine's load.
            x.IgnoreRepeatedWindowProbes = true;
            await Segment(x, DiffServices.Echo, mine, v, TcpFlags.Psh | TcpFlags.Ack, TsOptions(1002, ts), Encoding.ASCII.GetBytes("hello"), window: 0);
            await x.ExpectTcp(Me, DiffServices.Echo, "ACK of the data");
            await x.ExpectTcp(Me, DiffServices.Echo, "window probe");
            return mine + 5;
        }), DiffSentinel.TcpClosed),
        new("tcp-time-wait-after-victim-closes", TcpIn, async x =>
        {
            // The victim's "bye" and FIN wait for the tester's FIN/ACK for as long as the tester takes to see them and
            // answer: under load long enough for the victim's tail loss probe (2 RTT + 2 ms) or RTO. Those
            // retransmissions depend on the machine's load, not on the stack: left out of the comparison.
            x.IgnoreRetransmissions = true;
            var (v, ts) = await x.Handshake(Me, DiffServices.Echo);
            uint mine = Isn + 1;
            await Segment(x, DiffServices.Echo, mine, v, TcpFlags.Psh | TcpFlags.Ack, TsOptions(1002, ts), DiffServices.Bye);
            mine += 3;
            // The echo answers "bye" and closes: its data and FIN, in one segment or two.
            uint fin;
            while (true)
            {
                var s = await x.ExpectTcp(Me, DiffServices.Echo, "the victim's FIN");
                if ((s.Flags & TcpFlags.Fin) != 0) { fin = s.Seq + (uint)s.Len; break; }
            }
            await Segment(x, DiffServices.Echo, mine, fin + 1, TcpFlags.Fin | TcpFlags.Ack, TsOptions(1003, ts));
            await x.ExpectTcp(Me, DiffServices.Echo, "ACK of the tester's FIN (now TIME_WAIT)", f => f == TcpFlags.Ack);
            // A retransmitted FIN in TIME_WAIT is acknowledged again (tcp_timewait_state_process: TCP_TW_ACK).
            await Segment(x, DiffServices.Echo, mine, fin + 1, TcpFlags.Fin | TcpFlags.Ack, TsOptions(1004, ts));
            await x.ExpectTcp(Me, DiffServices.Echo, "ACK in TIME_WAIT", f => f == TcpFlags.Ack);
            // A new SYN with a higher sequence number and timestamp reopens the pair (TCP_TW_SYN).
            await Segment(x, DiffServices.Echo, mine + 100_000, 0, TcpFlags.Syn, SynOptions(tsVal: 5000));
            await x.ExpectTcp(Me, DiffServices.Echo, "SYN-ACK of the reopened connection", f => (f & TcpFlags.Syn) != 0);
            await Segment(x, DiffServices.Echo, mine + 100_001, 0, TcpFlags.Rst);
        }, DiffSentinel.TcpClosed)
        {
            Differences =
            [
                new("victim>tester ip 192.0.2.2>ME v4 hl=20 tos=0x00 len=52 DF ttl=64 tcp 7>40000 [.] seq=isn+5 ack=1005 win=510 opts=[nop,nop,ts ecr 1003] len=0",
                    "victim>tester ip 192.0.2.2>ME v4 hl=20 tos=0x00 len=52 DF ttl=64 tcp 7>40000 [.] seq=isn+5 ack=1005 win=510 opts=[nop,nop,ts ecr 1004] len=0", TwFinTs),
            ],
        },

        // Last: a SYN flood past the listener's backlog, answered with cookies once its SYN queue is full.
        new("tcp-syn-flood-past-backlog-cookies", Cookies, async x =>
        {
            const int n = 14;
            for (int i = 0; i < n; i++)
                x.Tcp((ushort)(Me + 100 + i), DiffServices.Listener, Isn, 0, TcpFlags.Syn, 64240, SynOptions());
            var isns = new Dictionary<ushort, uint>();
            for (int i = 0; i < n; i++)
            {
                var f = await x.Expect(fr => TcpOf(fr) is { } t && t.Sport == DiffServices.Listener && (t.Flags & TcpFlags.Syn) != 0, "SYN-ACK");
                var t = TcpOf(f)!.Value;
                isns[t.Dport] = t.Seq;
            }
            foreach (var (port, _) in isns) x.Tcp(port, DiffServices.Listener, Isn + 1, 0, TcpFlags.Rst, 0);
        }, DiffSentinel.TcpClosed)
        {
            // The simulation's listener answers cookies itself and normal requests from their child sockets: another order.
            Unordered = true,
            Differences = [Cookie(40109), Cookie(40110), Cookie(40111), Cookie(40112), Cookie(40113)],
        },
    ];

    public static TheoryData<string> Names => new(Cases.Select(c => c.Name));

    [DiffTheory, MemberData(nameof(Names))]
    public Task Case(string name) => rig.Run(Cases, name, output);
}
