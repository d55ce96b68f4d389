using System.Globalization;
using System.Text;
using ActorStack.Actors.Workloads;
using ActorStack.Messages;

namespace ActorStack.Cli;

/// <summary>Prints snapshots the way the Linux tools print the same counters.</summary>
public static class Report
{
    /// <summary><c>ip -s link</c>.</summary>
    public static string IpSLink(HostStats h)
    {
        var sb = new StringBuilder();
        if (h.Devices.All(d => d.Name != "lo"))
        {
            sb.AppendLine("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000");
            sb.AppendLine("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00");
        }
        foreach (var d in h.Devices)
        {
            var c = d.Counters;
            bool lo = d.Name == "lo";
            var flags = lo ? "LOOPBACK,UP,LOWER_UP" : d.Up ? "BROADCAST,MULTICAST,UP,LOWER_UP" : "BROADCAST,MULTICAST";
            var qlen = d.TxQueueLen > 0 ? d.TxQueueLen : 1000;
            sb.AppendLine($"{d.Ifindex}: {d.Name}: <{flags}> mtu {d.Mtu} qdisc {(lo ? "noqueue" : "pfifo_fast")} state {(lo ? "UNKNOWN" : d.OperState)} mode DEFAULT group default qlen {qlen}");
            sb.AppendLine(lo
                ? "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
                : $"    link/ether {d.Mac} brd ff:ff:ff:ff:ff:ff" + (d.XdpProgram is null ? "" : $" prog/xdp {d.XdpProgram}"));
            sb.AppendLine("    RX:  bytes packets errors dropped  missed   mcast");
            sb.AppendLine($"    {c.RxBytes,10} {c.RxPackets,7} {c.RxErrors,6} {c.RxDropped,7} {c.RxMissedErrors,7} {c.Multicast,7}");
            sb.AppendLine("    RX errors:  length    crc   frame    fifo overrun");
            sb.AppendLine($"    {c.RxLengthErrors,15} {c.RxCrcErrors,6} {0,7} {c.RxFifoErrors,7} {0,7}");
            sb.AppendLine("    TX:  bytes packets errors dropped carrier collsns");
            sb.AppendLine($"    {c.TxBytes,10} {c.TxPackets,7} {c.TxErrors,6} {c.TxDropped,7} {c.TxCarrierErrors,7} {c.Collisions,7}");
            sb.AppendLine($"    irqs per rx queue: {string.Join(' ', d.IrqsPerQueue)}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// <c>tc -s qdisc</c>: each device's root qdisc (<c>pfifo_fast</c> with Linux's default priomap, <c>noqueue</c> on
    /// lo) with sent bytes/packets, drops, overlimits, requeues and the packets queued now, then the driver's
    /// TX-queue stop/restart counts and <c>txqueuelen</c>.
    /// </summary>
    public static string TcQdisc(HostStats h)
    {
        var sb = new StringBuilder();
        foreach (var d in h.Devices)
        {
            if (d.Qdisc is not { } q)
            {
                sb.AppendLine($"qdisc noqueue 0: dev {d.Name} root refcnt 2");
                sb.AppendLine(" Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)");
                sb.AppendLine(" backlog 0b 0p requeues 0");
                continue;
            }
            sb.AppendLine($"qdisc pfifo_fast 0: dev {d.Name} root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1");
            sb.AppendLine($" Sent {q.Bytes} bytes {q.Packets} pkt (dropped {q.Drops}, overlimits {q.Overlimits} requeues {q.Requeues})");
            sb.AppendLine($" backlog {q.Backlog}p requeues {q.Requeues}");
            sb.AppendLine($" txqueuelen {d.TxQueueLen}, tx queue stopped {q.TxQueueStopped}, restarted {q.TxRestartQueue}");
        }
        return sb.ToString();
    }

    /// <summary>A switch's counters, then one line per port (frames in, out, dropped at its egress queue or input FIFO).</summary>
    public static string Switch(ActorStack.Messages.SwitchStatsSnapshot s)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"  rx {s.RxFrames} forwarded {s.Forwarded} flooded {s.Flooded} dropped {s.Dropped} (invalid {s.DroppedInvalid}, same port {s.DroppedSamePort})" +
                      $" fdb {s.FdbEntries} entries, aged {s.FdbAged}, moved {s.FdbMoves}, not learned (full) {s.LearnDropsFull}" +
                      (s.UnknownWire > 0 ? $", {s.UnknownWire} from unplugged wires" : ""));
        sb.AppendLine($"  {"port",-7} {"state",-5} {"rx",10} {"tx",10} {"tx_dropped",11} {"rx_fifo",8} {"backlog",8}");
        foreach (var p in s.Ports.Where(p => p.Up || p.RxFrames > 0 || p.TxFrames > 0))
            sb.AppendLine($"  {p.Name,-7} {(p.Up ? "UP" : "DOWN"),-5} {p.RxFrames,10} {p.TxFrames,10} {p.TxDropped,11} {p.RxFifoDropped,8} {p.Backlog,8}");
        return sb.ToString();
    }

    /// <summary>One line per application workload: what it sent and got back.</summary>
    public static string App(object status) => status switch
    {
        PingStatus p => $"ping {p.Host} -> {p.Destination}: {p.Transmitted} transmitted, {p.Received} received, {p.Errors} errors" +
                        (p.Received > 0 ? $", rtt min/avg/max/mdev = {p.RttMinUs / 1000.0:0.000}/{p.RttAvgUs / 1000.0:0.000}/{p.RttMaxUs / 1000.0:0.000}/{p.RttMdevUs / 1000.0:0.000} ms" : ""),
        TracerouteStatus t => $"traceroute {t.Host} -> {t.Destination}: {t.Hops.Length} hop(s), {(t.Reached ? "reached" : "not reached")}",
        UdpEchoServerStatus e => $"udp-echo-server {e.Host} {e.Bind}: read {e.Datagrams} datagrams ({e.Bytes} bytes), echoed {e.Echoed}, {e.SendErrors} send errors",
        UdpEchoClientStatus c => $"udp-echo-client {c.Host} -> {c.Server}:{c.Port}: sent {c.Sent}, answered {c.Answered}, lost {c.Lost}, late {c.Late}, mismatched {c.Mismatched}" +
                                 (c.Answered > 0 ? $", rtt min/avg/median/max = {c.RttMinTicks / 1e4:0.000}/{c.RttAvgTicks / 1e4:0.000}/{c.RttMedianTicks / 1e4:0.000}/{c.RttMaxTicks / 1e4:0.000} ms" : ""),
        TcpServerStatus t => $"{t.Workload} {t.Host} {t.Bind}: accepted {t.Accepted} connection(s), read {t.BytesRead} bytes, sent {t.BytesSent} bytes" +
                             (t.Workload == "tcp-rr-server" ? $", {t.Transactions} transactions" : "") + $", {t.Errors} errors",
        TcpBulkClientStatus b => $"tcp-bulk-client {b.Host} -> {b.Server}:{b.Port}: {b.Streams} stream(s), sent {b.BytesSent} bytes, receiver got {b.BytesReceived} bytes, " +
                                 $"{b.Retransmits} retransmits, sha256 {(b.ChecksumsMatch ? "match" : "MISMATCH")}, {b.Errors} errors",
        TcpRrClientStatus r => $"tcp-rr-client {r.Host} -> {r.Server}:{r.Port}: {r.Transactions} transactions on {r.Connections} connection(s), " +
                               $"{r.PerSecond:F2} per sec, latency us min/avg/p50/p99/max = {r.LatencyMinTicks / 10.0:0.0}/{r.LatencyAvgTicks / 10.0:0.0}/" +
                               $"{r.LatencyP50Ticks / 10.0:0.0}/{r.LatencyP99Ticks / 10.0:0.0}/{r.LatencyMaxTicks / 10.0:0.0}, {r.Errors} errors",
        _ => status.ToString() ?? "",
    };

    /// <summary><c>/proc/net/softnet_stat</c> (hex, one line per CPU) followed by the same in words.</summary>
    public static string SoftnetStat(HostStats h)
    {
        var sb = new StringBuilder();
        foreach (var s in h.Softnet)
        {
            long[] cols = [s.Processed, s.Dropped, s.TimeSqueeze, 0, 0, 0, 0, 0, 0, s.ReceivedRps, s.FlowLimitCount, s.BacklogLen, s.Cpu, s.InputQlen, s.ProcessQlen];
            sb.AppendLine(string.Join(' ', cols.Select(v => ((uint)v).ToString("x8", CultureInfo.InvariantCulture))));
        }
        sb.AppendLine("cpu   processed   dropped  time_squeeze  received_rps  input_qlen");
        foreach (var s in h.Softnet)
            sb.AppendLine($"{s.Cpu,3} {s.Processed,11} {s.Dropped,9} {s.TimeSqueeze,13} {s.ReceivedRps,13} {s.InputQlen,11}");
        return sb.ToString();
    }

    /// <summary><c>/proc/net/snmp</c>-style pairs of lines: names, then values.</summary>
    public static string Snmp(HostStats h)
    {
        var sb = new StringBuilder();
        foreach (var m in h.Snmp)
        {
            sb.AppendLine($"{m.Name}: {string.Join(' ', m.Counters.Select(c => c.Key))}");
            sb.AppendLine($"{m.Name}: {string.Join(' ', m.Counters.Select(c => c.Value))}");
        }
        return sb.ToString();
    }

    /// <summary>A dropwatch-like table: packets freed without delivery, by reason and place.</summary>
    public static string Drops(HostStats h)
    {
        if (h.Drops.IsEmpty) return "  (no drops)\n";
        var sb = new StringBuilder();
        sb.AppendLine($"  {"reason",-22} {"location",-16} {"packets",10}");
        foreach (var d in h.Drops) sb.AppendLine($"  {d.Site.Reason,-22} {d.Site.Location,-16} {d.Packets,10}");
        return sb.ToString();
    }

    /// <summary><c>ss -uanm</c>-like socket lines.</summary>
    public static string Sockets(HostStats h)
    {
        var sb = new StringBuilder();
        sb.AppendLine("Netid  Recv-Q  Send-Q  Local Address:Port     Peer Address:Port     rcvbuf  sndbuf   drops       read       sent");
        foreach (var s in h.Sockets.Where(s => s.Type != SockType.Stream)) // TCP sockets: ss -tanmi
        {
            var kind = s.Type == SockType.Dgram ? "udp" : "raw";
            var peer = s.RemotePort == 0 && s.RemoteAddress.IsAny ? "*:*" : $"{s.RemoteAddress}:{s.RemotePort}";
            sb.AppendLine($"{kind,-6} {s.RecvQueueBytes,7} {s.SendQueueBytes,7}  {$"{s.LocalAddress}:{s.LocalPort}",-22} {peer,-21} " +
                          $"{s.RcvBuf,7} {s.SndBuf,7} {s.Drops,7} {s.DatagramsRead,10} {s.DatagramsSent,10}");
        }
        return sb.ToString();
    }
}
