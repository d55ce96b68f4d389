using System.Globalization;

namespace ActorStack.Messages.Packets;

/// <summary>A 48-bit Ethernet address kept in the low bits of a ulong.</summary>
public readonly record struct MacAddress(ulong Value)
{
    public static readonly MacAddress Broadcast = new(0xFFFF_FFFF_FFFFUL);
    public static readonly MacAddress Zero = new(0);

    public bool IsBroadcast => Value == Broadcast.Value;
    /// <summary>I/G bit: the least significant bit of the first octet.</summary>
    public bool IsMulticast => (Value >> 40 & 1) == 1;

    public static MacAddress Read(ReadOnlySpan<byte> b)
        => new((ulong)b[0] << 40 | (ulong)b[1] << 32 | (ulong)b[2] << 24 | (ulong)b[3] << 16 | (ulong)b[4] << 8 | b[5]);

    public void Write(Span<byte> b)
    {
        for (int i = 0; i < 6; i++) b[i] = (byte)(Value >> (40 - 8 * i));
    }

    public static bool TryParse(string s, out MacAddress mac)
    {
        mac = default;
        var parts = s.Split(':', '-');
        if (parts.Length != 6) return false;
        ulong v = 0;
        foreach (var p in parts)
        {
            if (p.Length is < 1 or > 2 || !byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var o)) return false;
            v = v << 8 | o;
        }
        mac = new MacAddress(v);
        return true;
    }

    public static MacAddress Parse(string s)
        => TryParse(s, out var m) ? m : throw new FormatException($"not a MAC address: '{s}'");

    public override string ToString()
    {
        var v = Value;
        return string.Join(':', Enumerable.Range(0, 6).Select(i => ((byte)(v >> (40 - 8 * i))).ToString("x2")));
    }
}
