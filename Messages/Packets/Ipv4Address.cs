using System.Globalization;

namespace ActorStack.Messages.Packets;

/// <summary>An IPv4 address in host byte order (so comparisons and masks read naturally).</summary>
public readonly record struct Ipv4Address(uint Value) : IComparable<Ipv4Address>
{
    /// <summary>Bytes on the wire.</summary>
    public const int Length = 4;
    public static readonly Ipv4Address Any = new(0);
    public static readonly Ipv4Address Broadcast = new(0xFFFFFFFF);
    public static readonly Ipv4Address Loopback = new(0x7F000001);

    public bool IsAny => Value == 0;
    public bool IsLimitedBroadcast => Value == 0xFFFFFFFF;
    public bool IsMulticast => (Value >> 28) == 0xE;
    public bool IsLoopback => (Value >> 24) == 127;

    public static Ipv4Address Read(ReadOnlySpan<byte> b) => new((uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]));

    public void Write(Span<byte> b)
    {
        b[0] = (byte)(Value >> 24); b[1] = (byte)(Value >> 16); b[2] = (byte)(Value >> 8); b[3] = (byte)Value;
    }

    public static bool TryParse(string s, out Ipv4Address a)
    {
        a = default;
        var parts = s.Split('.');
        if (parts.Length != 4) return false;
        uint v = 0;
        foreach (var p in parts)
        {
            if (p.Length == 0 || !byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var o)) return false;
            v = v << 8 | o;
        }
        a = new Ipv4Address(v);
        return true;
    }

    public static Ipv4Address Parse(string s)
        => TryParse(s, out var a) ? a : throw new FormatException($"not an IPv4 address: '{s}'");

    public static uint PrefixMask(int prefixLength)
        => prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);

    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);

    public override string ToString() => $"{Value >> 24}.{(Value >> 16) & 255}.{(Value >> 8) & 255}.{Value & 255}";
}

/// <summary>An address with its prefix, as <c>ip addr</c> shows it (10.0.0.1/24).</summary>
public readonly record struct Ipv4Prefix(Ipv4Address Address, int Length)
{
    public uint Mask => Ipv4Address.PrefixMask(Length);
    public Ipv4Address Network => new(Address.Value & Mask);
    /// <summary>The subnet's directed broadcast address.</summary>
    public Ipv4Address BroadcastAddress => new(Address.Value | ~Mask);
    public bool Contains(Ipv4Address a) => (a.Value & Mask) == (Address.Value & Mask);

    public static bool TryParse(string s, out Ipv4Prefix p)
    {
        p = default;
        var slash = s.IndexOf('/');
        var addr = slash < 0 ? s : s[..slash];
        int len = 32;
        if (slash >= 0 && (!int.TryParse(s[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out len) || len > 32))
            return false;
        if (!Ipv4Address.TryParse(addr, out var a)) return false;
        p = new Ipv4Prefix(a, len);
        return true;
    }

    public override string ToString() => $"{Address}/{Length}";
}
