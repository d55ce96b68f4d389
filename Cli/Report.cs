using System.Globalization;
using System.Text;
using ActorStack.Messages;

namespace ActorStack.Cli;

/// <summary>Prints snapshots the way the Linux tools print the same counters.</summary>
public static class Report
{
    /// <summary><c>ip -s link</c>.</summary>
    public static string IpSLink(HostStats h)
    {
        var sb = new StringBuilder();
        sb.AppendLine("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000");
        sb.AppendLine("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00");
        foreach (var d in h.Devices)
        {
            var c = d.Counters;
            var flags = d.Up ? "BROADCAST,MULTICAST,UP,LOWER_UP" : "BROADCAST,MULTICAST";
            sb.AppendLine($"{d.Ifindex}: {d.Name}: <{flags}> mtu {d.Mtu} qdisc pfifo_fast state {d.OperState} mode DEFAULT group default qlen 1000");
            sb.AppendLine($"    link/ether {d.Mac} brd ff:ff:ff:ff:ff:ff" + (d.XdpProgram is null ? "" : $" prog/xdp {d.XdpProgram}"));
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
        sb.AppendLine("Netid  Recv-Q  Local Address:Port     Peer Address:Port     rcvbuf   drops       read");
        foreach (var s in h.Sockets)
        {
            var kind = s.Type == SockType.Dgram ? "udp" : "raw";
            var peer = s.RemotePort == 0 && s.RemoteAddress.IsAny ? "*:*" : $"{s.RemoteAddress}:{s.RemotePort}";
            sb.AppendLine($"{kind,-6} {s.RecvQueueBytes,7}  {$"{s.LocalAddress}:{s.LocalPort}",-22} {peer,-21} {s.RcvBuf,7} {s.Drops,7} {s.DatagramsRead,10}");
        }
        return sb.ToString();
    }
}
