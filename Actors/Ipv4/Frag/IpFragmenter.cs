using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Actors.Ipv4.Frag;

/// <summary>What <see cref="IpFragmenter.Fragment"/> decided.</summary>
public enum FragmentOutcome
{
    /// <summary>The packet fits the MTU: <c>ip_finish_output</c> would not call <c>ip_fragment</c>; the one output is a copy.</summary>
    Fits,
    /// <summary>Cut by <c>ip_do_fragment</c>; <c>FragOKs</c> 1, <c>FragCreates</c> = number of fragments.</summary>
    Fragmented,
    /// <summary>DF set and not <c>ignore_df</c>: ICMP fragmentation needed with <see cref="FragmentResult.Mtu"/>, <c>EMSGSIZE</c>, <c>FragFails</c>.</summary>
    Refused,
    /// <summary>The packet could not be fragmented (malformed header, or an MTU too small for the header plus 8 bytes); <c>FragFails</c>.</summary>
    Failed,
}

/// <summary>
/// Result of fragmenting one datagram. The caller adds <see cref="FragOKs"/>, <see cref="FragCreates"/>
/// and <see cref="FragFails"/> to the Ip MIB and, on <see cref="FragmentOutcome.Refused"/>, sends ICMP
/// destination unreachable / fragmentation needed carrying <see cref="Mtu"/> (and returns
/// <see cref="Error"/> to a local sender).
/// </summary>
public sealed record FragmentResult(
    FragmentOutcome Outcome,
    IReadOnlyList<byte[]> Fragments,
    int Mtu,
    Errno Error,
    DropReason? Reason,
    int FragOKs,
    int FragCreates,
    int FragFails)
{
    public override string ToString()
        => $"{Outcome} fragments={Fragments.Count} mtu={Mtu} error={Error} reason={Reason?.ToString() ?? "-"}";
}

/// <summary>
/// IPv4 fragmentation as <c>ip_fragment</c> / <c>ip_do_fragment</c> (net/ipv4/ip_output.c) do it, on the
/// slow path (<c>ip_frag_init</c> / <c>ip_frag_next</c>): every fragment carries the original header length,
/// its data is cut on 8-byte boundaries (only the last may be shorter), MF is set on all but the last (and on
/// the last too when a non-final fragment is itself fragmented), the offset continues from the input's offset,
/// and the header checksum is recomputed. After the first fragment is built, <c>ip_options_fragment</c>
/// replaces every option without the copied flag by NOOPs, so later fragments carry only copied options.
/// The input is never modified; every output is a fresh array.
/// </summary>
public static class IpFragmenter
{
    /// <summary>
    /// Follows <c>ip_fragment</c> then <c>ip_do_fragment</c>.
    /// </summary>
    /// <param name="ipPacket">An IPv4 packet starting at its header; bytes after the header's total length are ignored.</param>
    /// <param name="mtu">The route's MTU (<c>ip_skb_dst_mtu</c>), reported in ICMP fragmentation needed when refused.</param>
    /// <param name="ignoreDf"><c>skb->ignore_df</c>: the sender allowed fragmentation despite DF (e.g. <c>IP_PMTUDISC_DONT</c>/<c>WANT</c> or a reassembled forward).</param>
    /// <param name="fragMaxSize"><c>IPCB(skb)->frag_max_size</c>: the largest fragment of a reassembled datagram being forwarded (0 = none).
    /// A DF packet whose original fragments exceed the MTU is refused even with <paramref name="ignoreDf"/>; otherwise the fragments are no larger than it.</param>
    /// <param name="keepDf"><c>IPSKB_FRAG_PMTU</c>: keep DF on every fragment (set by <c>ip_frag_reasm</c> when the largest original fragment had DF).</param>
    /// <param name="headroom">Bytes left free before each fragment's IP header (the link-layer headroom of a transmit
    /// buffer), so the caller can send the fragments without copying them again; 0 gives bare IP packets.</param>
    public static FragmentResult Fragment(ReadOnlySpan<byte> ipPacket, int mtu, bool ignoreDf, int fragMaxSize = 0, bool keepDf = false,
        int headroom = 0)
    {
        if (!TryValidate(ipPacket, out int hlen, out int totalLength))
            return Fail(mtu, DropReason.IP_INHDR);

        var packet = ipPacket[..totalLength];
        Ipv4Header.TryRead(packet, out var iph); // TryValidate checked the header
        ushort fragOff = iph.FlagsAndOffset;

        // ip_finish_output: only a packet larger than the MTU (or than frag_max_size) goes to ip_fragment.
        if (totalLength <= mtu && (fragMaxSize <= 0 || totalLength <= fragMaxSize))
        {
            var whole = new byte[headroom + totalLength];
            packet.CopyTo(whole.AsSpan(headroom));
            return new FragmentResult(FragmentOutcome.Fits, new[] { whole }, mtu, Errno.OK, null, 0, 0, 0);
        }

        // ip_fragment: DF set and (not ignore_df, or the original fragments were larger than this MTU).
        if ((fragOff & Ipv4Header.FlagDf) != 0 && (!ignoreDf || (fragMaxSize > 0 && fragMaxSize > mtu)))
            return new FragmentResult(FragmentOutcome.Refused, Array.Empty<byte[]>(), mtu, Errno.EMSGSIZE, DropReason.PKT_TOO_BIG, 0, 0, 1);

        // ip_do_fragment: mtu = min(mtu, frag_max_size), then the data space per fragment.
        int fragMtu = fragMaxSize > 0 && fragMaxSize < mtu ? fragMaxSize : mtu;
        int space = fragMtu - hlen;
        if (space < Ipv4Header.FragmentUnit)
            return Fail(mtu, DropReason.PKT_TOO_BIG); // Linux never sees this: IPv4 MTUs are at least 68.

        // ip_frag_init
        int left = totalLength - hlen;
        int ptr = hlen;
        int offset = (fragOff & Ipv4Header.OffsetMask) << 3;
        bool notLastFrag = (fragOff & Ipv4Header.FlagMf) != 0;
        bool optionsFixed = offset != 0; // ip_frag_ipcb upgrades options only when fragmenting THE first fragment

        Span<byte> header = stackalloc byte[Ipv4Header.MaxLength];
        packet[..hlen].CopyTo(header);
        header = header[..hlen];

        var fragments = new List<byte[]>((left + space - 1) / space + 1);
        while (left > 0)
        {
            // ip_frag_next
            int len = left;
            if (len > space) len = space;
            if (len < left) len &= ~(Ipv4Header.FragmentUnit - 1);

            var buf = new byte[headroom + hlen + len];
            var frag = buf.AsSpan(headroom);
            header.CopyTo(frag);
            packet.Slice(ptr, len).CopyTo(frag[hlen..]);
            left -= len;

            ushort off = (ushort)(offset >> 3);
            if (keepDf) off |= Ipv4Header.FlagDf;
            if (left > 0 || notLastFrag) off |= Ipv4Header.FlagMf;
            var ip = new Ipv4HeaderWriter(frag[..hlen]);
            ip.FlagsAndOffset = off;
            ip.TotalLength = hlen + len;
            ip.FillChecksum();
            ptr += len;
            offset += len;
            fragments.Add(buf);

            if (!optionsFixed)
            {
                OptionsFragment(header);
                optionsFixed = true;
            }
        }

        return new FragmentResult(FragmentOutcome.Fragmented, fragments, mtu, Errno.OK, null, 1, fragments.Count, 0);
    }

    /// <summary>
    /// <c>ip_options_fragment</c>: overwrite each option whose copied flag is clear with NOOPs, in place,
    /// keeping the header length. Stops at END or at a malformed length, as Linux does.
    /// </summary>
    public static void OptionsFragment(Span<byte> header)
    {
        var options = header[Ipv4Header.MinLength..];
        var reader = new Ipv4OptionReader(options);
        while (reader.TryNext(out byte type, out int offset, out int length))
            if (type != Ipv4OptionType.Noop && !Ipv4OptionType.IsCopied(type))
                options.Slice(offset, length).Fill(Ipv4OptionType.Noop);
    }

    private static FragmentResult Fail(int mtu, DropReason reason)
        => new(FragmentOutcome.Failed, Array.Empty<byte[]>(), mtu, Errno.EINVAL, reason, 0, 0, 1);

    private static bool TryValidate(ReadOnlySpan<byte> p, out int hlen, out int totalLength)
    {
        hlen = 0; totalLength = 0;
        if (!Ipv4Header.TryRead(p, out var h) || h.Version != 4) return false;
        hlen = h.HeaderLength;
        totalLength = h.TotalLength;
        return hlen >= Ipv4Header.MinLength && totalLength >= hlen && totalLength <= p.Length;
    }
}
