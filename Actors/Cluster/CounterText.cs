using System.Text;
using ActorStack.Messages;

namespace ActorStack.Actors.Cluster;

/// <summary>
/// A host's counters as one canonical text: every device counter and qdisc, every <c>softnet_stat</c> row, every MIB
/// counter and every drop table entry, in a fixed order. Two runs have identical counters when these texts are equal;
/// it crosses nodes as a string.
/// </summary>
public static class CounterText
{
    public static string Render(HostStats st)
    {
        var b = new StringBuilder();
        foreach (var d in st.Devices.OrderBy(d => d.Name, StringComparer.Ordinal))
            b.Append("dev ").Append(d.Name).Append(' ').Append(d.OperState).Append(' ').Append(d.Counters).Append(" qdisc ").Append(d.Qdisc).Append('\n');
        foreach (var s in st.Softnet) b.Append(s).Append('\n');
        foreach (var m in st.Snmp)
            foreach (var c in m.Counters) b.Append(m.Name).Append(' ').Append(c.Key).Append(' ').Append(c.Value).Append('\n');
        foreach (var d in st.Drops.OrderBy(d => d.Site.ToString(), StringComparer.Ordinal)) b.Append("drop ").Append(d.Site).Append(' ').Append(d.Packets).Append('\n');
        return b.ToString();
    }
}
