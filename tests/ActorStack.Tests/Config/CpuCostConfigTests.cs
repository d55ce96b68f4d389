using ActorStack.Config;

namespace ActorStack.Tests.Config;

/// <summary><c>host-defaults.cpu-cost</c> and a host's own <c>cpu-cost</c>: ns-exact times, key-by-key override, errors naming the key.</summary>
public class CpuCostConfigTests
{
    private static string Scenario(string hostDefaults, string hostA) => $$"""
        actorstack {
          host-defaults { {{hostDefaults}} }
          scenario {
            hosts {
              a { {{hostA}} devices { eth0 { addresses = ["10.1.0.1/24"] } } }
              b { devices { eth0 { addresses = ["10.1.0.2/24"] } } }
            }
            wires = [ { a = "a/eth0", b = "b/eth0" } ]
          }
        }
        """;

    [Fact]
    public void Defaults_AreStackHoconsValues()
    {
        var c = StackConfig.Load().Host("receiver").CpuCost;
        // BENCHMARKS.md, "CPU cost calibration": medians measured on this machine's kernel (gro is an estimate).
        Assert.Equal(
            new CpuCostSettings(NapiPollNs: 528, GroNs: 40, NetifReceiveNs: 68, IpRcvNs: 584, IpForwardNs: 69, UdpRcvNs: 280,
                TcpRcvNs: 776, IcmpRcvNs: 562, SockEnqueueNs: 122, RecvmsgNs: 761, SendmsgNs: 1661, OutputNs: 972, CopyPerKiBNs: 32),
            c);
        Assert.Equal(16, c.CopyNs(512));
    }

    [Fact]
    public void HostOverride_KeyByKey_OverHostDefaults()
    {
        var s = StackConfig.Load(Scenario("cpu-cost { udp-rcv = 1.5us }", "cpu-cost { ip-rcv = 7ns }"));
        var a = s.Host("a").CpuCost;
        var b = s.Host("b").CpuCost;
        Assert.Equal(7, a.IpRcvNs);
        Assert.Equal(1500, a.UdpRcvNs);   // host-defaults still apply under the host's own block
        Assert.Equal(528, a.NapiPollNs);
        Assert.Equal(584, b.IpRcvNs);
        Assert.Equal(1500, b.UdpRcvNs);
    }

    [Fact]
    public void Zero_IsAllowed_AndNegativeOrUnknownIsRefused()
    {
        Assert.Equal(0, StackConfig.Load(Scenario("", "cpu-cost { output = 0ns }")).Host("a").CpuCost.OutputNs);
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(Scenario("", "cpu-cost { output = -1ns, ip-rvc = 3ns }")));
        Assert.Contains(e.Errors, m => m.Contains("actorstack.scenario.hosts.a.cpu-cost.output"));
        Assert.Contains(e.Errors, m => m.Contains("ip-rvc") && m.Contains("did you mean 'ip-rcv'"));
    }

    [Theory]
    [InlineData("60ns", 60)]
    [InlineData("1.5us", 1500)]
    [InlineData("2ms", 2_000_000)]
    [InlineData("1s", 1_000_000_000)]
    public void Nanoseconds_Parse(string text, long ns)
    {
        Assert.Equal(ns, StackConfig.Load(Scenario("", $"cpu-cost {{ sendmsg = {text} }}")).Host("a").CpuCost.SendmsgNs);
    }
}
