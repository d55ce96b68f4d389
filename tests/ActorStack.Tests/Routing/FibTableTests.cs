using ActorStack.Actors.Routing;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Routing;

/// <summary>The published FIB: an immutable copy of the writer's tables, one generation per publication.</summary>
public class FibTableTests
{
    private static Ipv4Address A(string s) => Ipv4Address.Parse(s);
    private static Ipv4Prefix P(string s) => Ipv4Prefix.TryParse(s, out var p) ? p : throw new FormatException(s);

    private static Fib HostWithEth0()
    {
        var fib = new Fib();
        Assert.True(fib.AddAddress("lo", P("127.0.0.1/8")).Ok);
        Assert.True(fib.AddAddress("eth0", P("10.0.0.1/24")).Ok);
        Assert.True(fib.AddRoute(P("0.0.0.0/0"), via: A("10.0.0.254")).Ok);
        return fib;
    }

    [Fact]
    public void ToTable_WriterChangesAfterwards_TableUnchanged()
    {
        var fib = HostWithEth0();
        var t1 = fib.ToTable();
        Assert.Equal(fib.Format(), t1.Format());
        Assert.Equal(fib.FormatTable("local"), t1.FormatTable("local"));

        Assert.True(fib.DeleteRoute(P("0.0.0.0/0")).Ok);
        fib.MarkLinkDown("eth0", true);
        Assert.Equal("default via 10.0.0.254 dev eth0\n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n", t1.Format());
        Assert.Equal(A("10.0.0.254"), t1.Lookup(A("8.8.8.8")).NextHop);
        Assert.False(t1.Routes().Single(r => r.PrefixLength == 24).LinkDown);

        var t2 = fib.ToTable();
        Assert.Equal("10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 linkdown\n", t2.Format());
        Assert.Equal(Errno.ENETUNREACH, t2.Lookup(A("8.8.8.8")).Error);
        Assert.Equal(t1.Generation + 1, t2.Generation);
    }

    [Fact]
    public void ToBuilder_CopiesRoutesAddressesLinkdownAndGeneration()
    {
        var fib = HostWithEth0();
        fib.MarkLinkDown("eth0", true);
        var t = fib.ToTable();
        var b = t.ToBuilder();
        Assert.Equal(t.Format(), b.Format());
        Assert.Equal(t.AddressesOf("eth0"), b.AddressesOf("eth0"));
        // A route added by the copy through a carrier-down device is flagged, as the original would do.
        Assert.True(b.AddRoute(P("172.16.0.0/16"), via: A("10.0.0.2")).Ok);
        Assert.Contains("172.16.0.0/16 via 10.0.0.2 dev eth0 linkdown", b.Format());
        Assert.DoesNotContain("172.16", t.Format());
        Assert.Equal(t.Generation + 1, b.ToTable().Generation);
        Assert.Equal(t.RouteCount(RouteTable.Main) + 1, b.RouteCount(RouteTable.Main));
    }

    [Fact]
    public void DisableIpAndRestore_NetdevDownThenUp_KernelRoutesBackStaticGone()
    {
        var fib = HostWithEth0();
        var flushed = fib.DisableIp("eth0");
        Assert.Equal("", fib.Format());
        Assert.Contains("local 10.0.0.1 dev eth0", fib.FormatTable("local"));   // host scope: kept
        Assert.Equal(2, flushed.Count);   // the prefix route and the broadcast route; the default route was static
        fib.Restore(flushed);
        Assert.Equal("10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n", fib.Format());
        Assert.Contains("broadcast 10.0.0.255 dev eth0", fib.FormatTable("local"));
    }
}
