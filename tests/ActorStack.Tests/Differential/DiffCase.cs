using System.Buffers.Binary;
using System.Text.RegularExpressions;
using ActorStack.Hardware.Tap;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;
using ActorStack.Tests.Tap;
using Xunit.Abstractions;
using static ActorStack.Tests.Differential.DiffFrames;

namespace ActorStack.Tests.Differential;

/// <summary>What a case's script does, against either victim.</summary>
public delegate Task DiffScript(DiffExchange x);

/// <summary>
/// The exchange after a case's script whose answer marks the end of its transcript. It follows the same path
/// through the victim as the case's own frames (on the simulated host, protocols are different actors, and an
/// answer from one may overtake another's), so every answer to the case is in before the sentinel's.
/// </summary>
public enum DiffSentinel
{
    /// <summary>An ICMP echo request (IP → ICMP).</summary>
    Echo,
    /// <summary>A UDP datagram to a closed port, answered by port unreachable (IP → UDP → ICMP).</summary>
    UdpClosed,
    /// <summary>A SYN to a closed port, answered by RST (IP → TCP).</summary>
    TcpClosed,
    /// <summary>An ARP request from another tester address (the neighbour layer).</summary>
    Arp,
}

/// <summary>
/// A deliberate difference of the simulation from Linux in one case: the transcript line Linux gives
/// (<paramref name="Linux"/>: the last line that starts with it; null for a line only the simulation gives, added
/// after the frames) and the one the simulation gives instead (<paramref name="Sim"/>, null for a line it does not
/// give), and why.
/// </summary>
public sealed record DiffDifference(string? Linux, string? Sim, string Reason);

/// <summary>
/// One case of the differential suite: a name, the script (the setup and frames, built in C#), the counters whose
/// deltas are compared ("Mib.Name" as in <c>/proc/net/snmp</c> and <c>/proc/net/netstat</c>), the sentinel, extra
/// normalisation (regular expressions whose matches become "*"), and the differences from Linux it expects.
/// </summary>
public sealed record DiffCase(string Name, string[] Counters, DiffScript Script, DiffSentinel Sentinel = DiffSentinel.Echo)
{
    public string[] Mask { get; init; } = [];
    /// <summary>The answers' order is not compared (timers that expire together fire in an order of the implementation's).</summary>
    public bool Unordered { get; init; }
    public DiffDifference[] Differences { get; init; } = [];
    public override string ToString() => Name;
}

/// <summary>
/// One run of a case's script against one victim: the tester's address for the case (<see cref="Me"/>, a distinct
/// one per case so that late answers of another case stay out), frame sending, waiting for answers, and the
/// transcript: one normalised line (<see cref="DiffFrames.Describe"/>) per frame the victim sent to <see cref="Me"/>.
/// </summary>
public sealed class DiffExchange(DiffVictim victim, Ipv4Address me, int index)
{
    public static readonly Ipv4Address SentinelArpIp = Ipv4Address.Parse("192.0.2.250");
    private const ushort WarmId = 0xD1FF, SentinelId = 0x5E47;
    private const ushort SentinelPort = 65001, ClosedPort = 65002;
    private readonly Dictionary<(ushort, ushort), uint> _isns = [];

    public Ipv4Address Me { get; } = me;
    public Ipv4Address Victim => VictimIp;
    public string Side => victim.Side;
    public List<string> Lines { get; } = [];

    /// <summary>
    /// Set by a script that leaves the victim's segments unacknowledged for as long as the tester takes to answer: the
    /// victim's tail loss probe (2 RTT + 2 ms on a veth or a TAP) or RTO (200 ms) then fires or not depending on how
    /// loaded the machine running the tester is, on either side. A TCP segment from the victim that carries nothing new
    /// on its flow (a SYN seen before, or data/FIN ending at or before the highest sequence the flow has sent) is then
    /// a retransmission: left out of the transcript and of the waits, counted in <see cref="Retransmissions"/>, and
    /// taken off the compared <c>Tcp.RetransSegs</c> delta (<c>Tcp.OutSegs</c> does not count retransmissions).
    /// </summary>
    public bool IgnoreRetransmissions { get; set; }

    /// <summary>The victim's retransmissions left out (<see cref="IgnoreRetransmissions"/>).</summary>
    public int Retransmissions { get; private set; }

    /// <summary>
    /// Set by a script that answers the victim's first zero-window probe (tcp_send_probe0) with a RST: the next probe
    /// is due 2 RTO (400 ms) after the first, and whether it leaves before the RST arrives depends on how loaded the
    /// machine is, not on the stack. Such a repeated probe (a bare ACK one below the flow's highest sequence, after the
    /// first) is left out of the transcript and of the waits, counted in <see cref="RepeatedWindowProbes"/>, and taken
    /// off the compared <c>Tcp.OutSegs</c> delta.
    /// </summary>
    public bool IgnoreRepeatedWindowProbes { get; set; }

    /// <summary>The repeated window probes left out of the transcript (<see cref="IgnoreRepeatedWindowProbes"/>).</summary>
    public int RepeatedWindowProbes { get; private set; }
    private readonly HashSet<(ushort, ushort)> _probed = [];

    // Per flow (victim port, tester port): the SYN's sequence number and the highest end sequence the victim has sent.
    private readonly Dictionary<(ushort, ushort), (uint Syn, uint End)> _sent = [];
    /// <summary>A tester port (40000 + <paramref name="n"/>): flows of different cases differ by the tester's address.</summary>
    public static ushort MyPort(int n = 0) => (ushort)(40000 + n);

    public void Send(byte[] frame) => victim.Port.Send(frame);
    public void SendIp(byte[] packet, MacAddress? dst = null) => Send(Eth(packet, dst: dst));

    public void Udp(ushort sport, ushort dport, byte[] payload, Action<byte[]>? damage = null, Ipv4Address? dst = null, MacAddress? mac = null)
    {
        var d = DiffFrames.Udp(Me, dst ?? Victim, sport, dport, payload);
        damage?.Invoke(d);
        SendIp(Ip(Me, dst ?? Victim, IpProtocol.Udp, d), mac);
    }

    public void Echo(ushort id, ushort seq, byte[]? data = null, Ipv4Address? dst = null, byte[]? options = null, MacAddress? mac = null)
        => SendIp(Ip(Me, dst ?? Victim, IpProtocol.Icmp, IcmpPacket.EchoRequest(id, seq, data ?? Bytes(16)), options: options), mac);

    public void Tcp(ushort sport, ushort dport, uint seq, uint ack, TcpFlags flags, ushort window = 29200, byte[]? options = null, byte[]? payload = null)
        => SendIp(Ip(Me, Victim, IpProtocol.Tcp, DiffFrames.Tcp(Me, Victim, sport, dport, seq, ack, flags, window, options, payload ?? [])));

    /// <summary>
    /// Waits (at most <see cref="Timeouts.Wall"/>) for a frame to <see cref="Me"/> that <paramref name="match"/> accepts,
    /// recording every frame to <see cref="Me"/> on the way (and the match itself unless <paramref name="record"/> is false).
    /// </summary>
    public async Task<byte[]> Expect(Func<byte[], bool> match, string what, bool record = true)
    {
        var deadline = DateTime.UtcNow + Timeouts.Wall; // test-side wall clock: the kernel does not run on the actor scheduler
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var f = left > TimeSpan.Zero ? await victim.Port.ReceiveAsync(left) : null;
            if (f is null)
                throw new Xunit.Sdk.XunitException($"[{Side}] no {what} within {Timeouts.Wall.TotalSeconds} s; transcript so far:\n  {string.Join("\n  ", Lines)}");
            bool mine = Relevant(f);
            if (mine && Retransmitted(f))
            {
                Retransmissions++;
                continue;
            }
            if (mine && RepeatedProbe(f))
            {
                RepeatedWindowProbes++;
                continue;
            }
            bool hit = match(f);
            if (mine && (record || !hit)) Lines.Add(Normalise(Describe(f, _isns)));
            if (hit) return f;
        }
    }

    /// <summary>
    /// Tracks what the victim has sent on each TCP flow to <see cref="Me"/>; true for a retransmission when
    /// <see cref="IgnoreRetransmissions"/> is set (a SYN with the sequence number of the flow's SYN, or a segment with
    /// data or FIN that ends at or before the flow's highest end sequence). A SYN with another sequence number is a new
    /// incarnation of the flow (a reopened TIME_WAIT pair).
    /// </summary>
    private bool Retransmitted(byte[] f)
    {
        if (TcpOf(f) is not { } t || !IsToMe(f)) return false;
        bool syn = (t.Flags & TcpFlags.Syn) != 0, fin = (t.Flags & TcpFlags.Fin) != 0;
        uint end = t.Seq + (uint)t.Len + (syn ? 1u : 0u) + (fin ? 1u : 0u);
        var key = (t.Sport, t.Dport);
        bool known = _sent.TryGetValue(key, out var flow);
        if (syn)
        {
            if (known && flow.Syn == t.Seq) return IgnoreRetransmissions;
            _sent[key] = (t.Seq, end);
            return false;
        }
        if (!known) return false;
        if (t.Len == 0 && !fin) return false; // a bare ACK carries no sequence space
        if ((int)(end - flow.End) <= 0) return IgnoreRetransmissions;
        _sent[key] = flow with { End = end };
        return false;
    }

    /// <summary>
    /// True for a zero-window probe from the victim (a bare ACK with the sequence number one below the highest the
    /// flow has sent) after the flow's first one, when <see cref="IgnoreRepeatedWindowProbes"/> is set.
    /// </summary>
    private bool RepeatedProbe(byte[] f)
    {
        if (!IgnoreRepeatedWindowProbes || TcpOf(f) is not { } t || t.Flags != TcpFlags.Ack || t.Len != 0) return false;
        var key = (t.Sport, t.Dport);
        if (!_sent.TryGetValue(key, out var flow) || t.Seq != flow.End - 1) return false;
        return !_probed.Add(key);
    }

    /// <summary>
    /// Counts the frames the victim sent after the sentinel's answer that the case leaves out anyway (a retransmission
    /// with <see cref="IgnoreRetransmissions"/>, a repeated probe with <see cref="IgnoreRepeatedWindowProbes"/>), as those
    /// before it; any other late frame is discarded, as the next case's drain would. On the simulated victim a segment
    /// whose timer fired before the tester's RST was taken leaves from the connection's actor, and the sentinel's answer,
    /// from the TCP layer's, can overtake it: seen late, it is still one of the case's.
    /// </summary>
    public void CountLate()
    {
        while (victim.Port.TryReceive(out var f))
        {
            if (!Relevant(f)) continue;
            if (Retransmitted(f)) Retransmissions++;
            else if (RepeatedProbe(f)) RepeatedWindowProbes++;
        }
    }

    /// <summary>The next TCP segment from the victim's <paramref name="victimPort"/> to this case's <paramref name="myPort"/>.</summary>
    public async Task<(uint Seq, uint Ack, TcpFlags Flags, ushort Window, uint? TsVal, int Len)> ExpectTcp(ushort myPort, ushort victimPort, string what, Func<TcpFlags, bool>? flags = null)
    {
        var f = await Expect(fr => TcpOf(fr) is { } t && t.Dport == myPort && t.Sport == victimPort && (flags?.Invoke(t.Flags) ?? true) && IsToMe(fr), what);
        var t = TcpOf(f)!.Value;
        return (t.Seq, t.Ack, t.Flags, t.Window, t.TsVal, t.Len);
    }

    /// <summary>
    /// The three-way handshake from <paramref name="myPort"/> (ISN <paramref name="isn"/>, Linux's SYN options,
    /// TSval 1000): returns the victim's next sequence number and TSval.
    /// </summary>
    public async Task<(uint VictimNext, uint VictimTs)> Handshake(ushort myPort, ushort port, uint isn = 1000, ushort mss = 1460)
    {
        Tcp(myPort, port, isn, 0, TcpFlags.Syn, 64240, SynOptions(mss));
        var sa = await ExpectTcp(myPort, port, "SYN-ACK", f => f == (TcpFlags.Syn | TcpFlags.Ack));
        Tcp(myPort, port, isn + 1, sa.Seq + 1, TcpFlags.Ack, 502, TsOptions(1001, sa.TsVal ?? 0));
        return (sa.Seq + 1, sa.TsVal ?? 0);
    }

    /// <summary>The case's own address (dotted or in hex, as in a quote) becomes "ME", so that lines do not depend on the case's place.</summary>
    private string Normalise(string line)
    {
        Span<byte> b = stackalloc byte[4];
        Me.Write(b);
        return line.Replace(Me.ToString(), "ME").Replace(Convert.ToHexString(b), "<ME>");
    }

    private bool IsToMe(byte[] f) => f.Length >= 34 && Ipv4Address.Read(f.AsSpan(30)) == Me;

    private bool Relevant(byte[] f)
    {
        if (!EthernetHeader.TryRead(f, out var eth)) return false;
        if (eth.EtherType == EtherType.Ipv4) return IsToMe(f);
        return TapFrames.IsArp(f, out var arp) && ArpPacket.TryRead(arp, out var a, out _) && a.TargetIp == Me;
    }

    /// <summary>An echo from <see cref="Me"/> answered (the victim has resolved <see cref="Me"/>), recording nothing.</summary>
    public async Task Warm()
    {
        Echo(WarmId, (ushort)index);
        await Expect(f => IsEchoReply(f, WarmId), "warm-up echo reply", record: false);
        Lines.Clear();
    }

    public async Task Sentinel(DiffSentinel kind)
    {
        switch (kind)
        {
            case DiffSentinel.Echo:
                Echo(SentinelId, (ushort)index);
                await Expect(f => IsEchoReply(f, SentinelId), "sentinel echo reply", record: false);
                break;
            case DiffSentinel.UdpClosed:
                Udp(SentinelPort, ClosedPort, [1]);
                await Expect(f => f.Length >= 14 + 20 + 8 + 28 && f[23] == IpProtocol.Icmp && f[34] == 3 && f[35] == 3
                    && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 20 + 8 + 20 + 2)) == ClosedPort, "sentinel port unreachable", record: false);
                break;
            case DiffSentinel.TcpClosed:
                Tcp(SentinelPort, ClosedPort, 1, 0, TcpFlags.Syn);
                await Expect(f => TcpOf(f) is { } t && t.Dport == SentinelPort && t.Sport == ClosedPort && IsToMe(f), "sentinel RST", record: false);
                break;
            case DiffSentinel.Arp:
                Send(TapFrames.ArpRequest(TesterMac, SentinelArpIp, Victim));
                await Expect(f => TapFrames.IsArp(f, out var arp) && ArpPacket.TryRead(arp, out var a, out _) && a.IsReply && a.TargetIp == SentinelArpIp,
                    "sentinel ARP reply", record: false);
                break;
        }
    }

    private bool IsEchoReply(byte[] f, ushort id)
        => f.Length >= 14 + 20 + 8 && f[23] == IpProtocol.Icmp && f[34] == IcmpType.EchoReply && IsToMe(f)
           && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(38)) == id;
}

/// <summary>
/// The class fixture of a differential test class: one Linux victim and one simulated victim, both made once for
/// all the class's cases and removed afterwards (namespaces included, whatever the outcome). Where the process
/// cannot make namespaces or TAP devices nothing is made (the tests are skipped by <see cref="DiffTheoryAttribute"/>).
/// </summary>
public sealed class DiffRig : IAsyncLifetime
{
    public LinuxDiffVictim? Linux { get; private set; }
    public SimDiffVictim? Sim { get; private set; }

    public async Task InitializeAsync()
    {
        if (!DiffTheoryAttribute.Capable(out _)) return;
        Linux = LinuxDiffVictim.Create();
        Sim = await SimDiffVictim.Create();
    }

    public async Task DisposeAsync()
    {
        if (Sim is not null) await Sim.DisposeAsync();
        if (Linux is not null) await Linux.DisposeAsync();
    }

    /// <summary>Runs the case <paramref name="name"/> of <paramref name="cases"/> (tester address 192.0.2.(10 + its index)) and logs both transcripts.</summary>
    public async Task Run(DiffCase[] cases, string name, ITestOutputHelper output)
    {
        int i = Array.FindIndex(cases, c => c.Name == name);
        var (linux, sim) = await Run(cases[i], 10 + i);
        output.WriteLine($"--- linux\n{string.Join('\n', linux)}\n--- sim\n{string.Join('\n', sim)}");
        foreach (var d in cases[i].Differences) output.WriteLine($"difference: {d.Linux} → {d.Sim}: {d.Reason}");
    }

    /// <summary>
    /// Runs <paramref name="c"/> against Linux, then against the simulation, with tester address
    /// 192.0.2.<paramref name="host"/>, and asserts that the simulation's transcript is Linux's with exactly the
    /// case's recorded differences applied (each of which must apply). Returns both transcripts.
    /// </summary>
    public async Task<(List<string> Linux, List<string> Sim)> Run(DiffCase c, int host)
    {
        Assert.NotNull(Linux);
        var me = new Ipv4Address(Subnet.Value + (uint)host);
        var (linuxFrames, linuxDelta) = await RunOn(Linux!, c, me, host);
        var (simFrames, simDelta, simBefore, simExchange) = await RunOnSim(c, me, host);
        var linux = Transcript(c, linuxFrames, linuxDelta);
        var expected = Apply(c, linux);
        if (c.Unordered) expected.Sort(StringComparer.Ordinal); // as Transcript sorts an unordered case's frames
        var sim = Transcript(c, simFrames, simDelta);
        // Counters the simulation updates in another actor than the one that answered the sentinel may lag it, and a
        // segment the case leaves out may leave after the sentinel's answer (DiffExchange.CountLate): read again (each
        // read is a round trip through the host) until they agree or the wall timeout passes.
        var deadline = DateTime.UtcNow + Timeouts.Wall;
        while (!sim.SequenceEqual(expected) && DateTime.UtcNow < deadline)
        {
            simExchange.CountLate();
            var now = await Sim!.Counters();
            sim = Transcript(c, simFrames, Delta(c, simBefore, now, simExchange));
        }
        if (!sim.SequenceEqual(expected))
            throw new Xunit.Sdk.XunitException($"case {c.Name}: the simulation differs from Linux\n--- linux\n  {string.Join("\n  ", linux)}\n" +
                $"--- expected of the simulation (linux with the recorded differences)\n  {string.Join("\n  ", expected)}\n--- sim\n  {string.Join("\n  ", sim)}");
        return (linux, sim);
    }

    private static async Task<(List<string>, Dictionary<string, long?>)> RunOn(DiffVictim v, DiffCase c, Ipv4Address me, int host)
    {
        var (frames, before, x) = await Script(v, c, me, host);
        return (frames, Delta(c, before, await v.Counters(), x));
    }

    private async Task<(List<string>, Dictionary<string, long?>, Dictionary<string, long>, DiffExchange)> RunOnSim(DiffCase c, Ipv4Address me, int host)
    {
        Assert.NotNull(Sim);
        var (frames, before, x) = await Script(Sim!, c, me, host);
        return (frames, Delta(c, before, await Sim!.Counters(), x), before, x);
    }

    private static async Task<(List<string>, Dictionary<string, long>, DiffExchange)> Script(DiffVictim v, DiffCase c, Ipv4Address me, int host)
    {
        v.Port.Drain();
        var x = new DiffExchange(v, me, host);
        await x.Warm();
        var before = await v.Counters();
        await c.Script(x);
        await x.Sentinel(c.Sentinel);
        return (x.Lines, before, x);
    }

    /// <summary>
    /// The change of each of the case's counters; a counter of a MIB the side has that is not listed counts 0 (Linux
    /// lists <c>IcmpMsg</c> types only once they are non-zero); one of a MIB the side does not have is absent (null).
    /// Retransmissions left out of the transcript (<see cref="DiffExchange.IgnoreRetransmissions"/>) are taken off
    /// <c>Tcp.RetransSegs</c>, which counted each once (<c>Tcp.OutSegs</c> counts none of them), and the repeated window
    /// probes left out (<see cref="DiffExchange.IgnoreRepeatedWindowProbes"/>) off <c>Tcp.OutSegs</c>.
    /// </summary>
    private static Dictionary<string, long?> Delta(DiffCase c, Dictionary<string, long> before, Dictionary<string, long> after, DiffExchange x)
        => c.Counters.ToDictionary(n => n, n =>
        {
            var mib = n[..(n.IndexOf('.') + 1)];
            bool hasMib = after.Keys.Any(k => k.StartsWith(mib, StringComparison.Ordinal));
            bool known = before.ContainsKey(n) || after.ContainsKey(n) || hasMib && n.StartsWith("IcmpMsg.", StringComparison.Ordinal);
            long off = n switch
            {
                "Tcp.RetransSegs" => x.Retransmissions, // OutSegs never counts a retransmission (tcp_transmit_skb)
                "Tcp.OutSegs" => x.RepeatedWindowProbes,
                _ => 0,
            };
            return known ? after.GetValueOrDefault(n) - before.GetValueOrDefault(n) - off : (long?)null;
        });

    private static List<string> Transcript(DiffCase c, List<string> frames, Dictionary<string, long?> delta)
    {
        var lines = frames.Select(l => c.Mask.Aggregate(l, (s, m) => Regex.Replace(s, m, "*"))).ToList();
        lines.AddRange(c.Counters.Select(n => delta[n] is { } d ? $"{n} {d:+0;-0;0}" : $"{n} absent"));
        if (c.Unordered) lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static List<string> Apply(DiffCase c, List<string> linux)
    {
        var r = new List<string>(linux);
        foreach (var d in c.Differences)
        {
            if (d.Linux is null)
            {
                int firstCounter = r.FindIndex(l => c.Counters.Any(n => l.StartsWith(n + " ", StringComparison.Ordinal)));
                r.Insert(firstCounter < 0 ? r.Count : firstCounter, d.Sim!);
                continue;
            }
            int i = r.FindLastIndex(l => l.StartsWith(d.Linux, StringComparison.Ordinal));
            if (i < 0)
                throw new Xunit.Sdk.XunitException($"case {c.Name}: the recorded difference \"{d.Linux}\" → \"{d.Sim}\" ({d.Reason}) " +
                    $"no longer matches Linux's transcript:\n  {string.Join("\n  ", linux)}");
            if (d.Sim is null) r.RemoveAt(i);
            else r[i] = d.Sim;
        }
        return r;
    }
}

/// <summary>
/// A <see cref="TheoryAttribute"/> for the differential cases: skipped, with the reason, where the process is not
/// root, <c>ip</c> is missing or TAP devices cannot be opened (the pattern of <see cref="RequiresTapFactAttribute"/>).
/// </summary>
public sealed class DiffTheoryAttribute : TheoryAttribute
{
    public DiffTheoryAttribute()
    {
        if (!Capable(out var why)) Skip = $"differential test skipped: {why}";
    }

    public static bool Capable(out string why) => Netns.CanCreate(out why) && TapDevice.Probe(out why);
}
