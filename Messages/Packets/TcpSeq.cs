namespace ActorStack.Messages.Packets;

/// <summary>
/// A 32-bit TCP sequence number with wrap-safe comparison (RFC 9293 section 3.4,
/// Linux <c>before()</c> / <c>after()</c>: the sign of the 32-bit difference).
/// </summary>
public readonly record struct TcpSeq(uint Value) : IComparable<TcpSeq>
{
    public static TcpSeq operator +(TcpSeq a, int n) => new(unchecked(a.Value + (uint)n));
    public static TcpSeq operator -(TcpSeq a, int n) => new(unchecked(a.Value - (uint)n));
    /// <summary>Signed distance a - b (valid while the two are less than 2^31 apart).</summary>
    public static int operator -(TcpSeq a, TcpSeq b) => unchecked((int)(a.Value - b.Value));
    public static bool operator <(TcpSeq a, TcpSeq b) => a - b < 0;
    public static bool operator >(TcpSeq a, TcpSeq b) => a - b > 0;
    public static bool operator <=(TcpSeq a, TcpSeq b) => a - b <= 0;
    public static bool operator >=(TcpSeq a, TcpSeq b) => a - b >= 0;
    public static TcpSeq Max(TcpSeq a, TcpSeq b) => a > b ? a : b;
    public static TcpSeq Min(TcpSeq a, TcpSeq b) => a < b ? a : b;
    /// <summary>lo &lt;= this &lt;= hi, Linux <c>between()</c>.</summary>
    public bool Between(TcpSeq lo, TcpSeq hi) => unchecked(hi.Value - lo.Value >= Value - lo.Value);
    public int CompareTo(TcpSeq other) => this - other;
    public override string ToString() => Value.ToString();
}
