using ActorStack.Cli;
using ActorStack.Config;

namespace ActorStack.Tests.TcpWorkloads;

/// <summary>The tcp-bulk-* and tcp-rr-* workload entries: defaults, values, and errors naming the key (exit 2 from the CLI).</summary>
public class TcpWorkloadConfigTests
{
    private const string Scenario = """
        actorstack {
          scenario {
            hosts {
              a { devices { eth0 { mac = "02:00:00:00:00:0a", addresses = ["10.1.0.1/24"] } } }
              b { devices { eth0 { mac = "02:00:00:00:00:0b", addresses = ["10.1.0.2/24"] } } }
            }
            wires = [ { a = "a/eth0", b = "b/eth0" } ]
            workloads = [
              { type = tcp-bulk-server, host = b, bind = "0.0.0.0:5201" }
              { type = tcp-bulk-client, host = a, server = "10.1.0.2:5201", BULK }
              { type = tcp-rr-server, host = b, bind = "0.0.0.0:5202" }
              { type = tcp-rr-client, host = a, server = "10.1.0.2:5202", RR }
            ]
          }
        }
        """;

    private static string With(string bulk, string rr) => Scenario.Replace("BULK", bulk).Replace("RR", rr);

    [Fact]
    public void Load_TcpWorkloads_Defaults()
    {
        var s = StackConfig.Load(With("parallel = 1", "connections = 1"));
        var server = Assert.IsType<TcpBulkServerSettings>(s.Workloads[0]);
        Assert.Equal((5201, "b"), (server.Port, server.Host));
        var bulk = Assert.IsType<TcpBulkClientSettings>(s.Workloads[1]);
        Assert.Equal((0L, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1), false, 1, TcpCongestion.Cubic, false),
            (bulk.Bytes, bulk.Time, bulk.Interval, bulk.Reverse, bulk.Parallel, bulk.Congestion, bulk.NoDelay));
        var rr = Assert.IsType<TcpRrClientSettings>(s.Workloads[3]);
        Assert.Equal((1, 1, 0L, TimeSpan.FromSeconds(10), 1), (rr.Request, rr.Response, rr.Count, rr.Time, rr.Connections));
    }

    [Fact]
    public void Load_TcpWorkloads_ValuesAndByteSuffixes()
    {
        var s = StackConfig.Load(With("bytes = 16M, interval = 500ms, reverse = on, parallel = 4, congestion = reno, nodelay = on",
            "request = 64, response = 1K, count = 10000, connections = 8"));
        var bulk = Assert.IsType<TcpBulkClientSettings>(s.Workloads[1]);
        Assert.Equal((16L << 20, TimeSpan.Zero, TimeSpan.FromMilliseconds(500), true, 4, TcpCongestion.Reno, true),
            (bulk.Bytes, bulk.Time, bulk.Interval, bulk.Reverse, bulk.Parallel, bulk.Congestion, bulk.NoDelay));
        var rr = Assert.IsType<TcpRrClientSettings>(s.Workloads[3]);
        Assert.Equal((64, 1024, 10000L, TimeSpan.Zero, 8), (rr.Request, rr.Response, rr.Count, rr.Time, rr.Connections));
    }

    [Theory]
    [InlineData("bytes = 16Q", "count = 5", "workloads[1].bytes = \"16Q\": must be a byte count")]
    [InlineData("congestion = bbr", "count = 5", "workloads[1].congestion = \"bbr\": must be cubic or reno")]
    [InlineData("parallel = 0", "count = 5", "workloads[1].parallel = \"0\": must be between 1 and 128")]
    [InlineData("bytes = 1M, time = 2s", "count = 5", "workloads[1].time = \"2s\": give either bytes or time")]
    [InlineData("parallel = 1", "connections = 0", "workloads[3].connections = \"0\": must be between 1 and 4096")]
    [InlineData("parallel = 1", "count = 5, time = 1s", "workloads[3].time = \"1s\": give either count or time")]
    public void Load_BadTcpWorkload_ErrorNamesKey(string bulk, string rr, string expected)
    {
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(With(bulk, rr)));
        var msg = Assert.Single(e.Errors);
        Assert.StartsWith("actorstack.scenario." + expected, msg);
    }

    [Fact]
    public async Task RunnerCheck_BadTcpWorkload_Returns2_GoodOne0()
    {
        var file = Path.Combine(Path.GetTempPath(), $"actorstack-tcp-{Guid.NewGuid():N}.hocon");
        try
        {
            await File.WriteAllTextAsync(file, With("reverse = maybe", "count = 5"));
            Assert.Equal(2, await Runner.Main(["check", "--config", file]));
            await File.WriteAllTextAsync(file, With("bytes = 1M", "count = 5"));
            Assert.Equal(0, await Runner.Main(["check", "--config", file]));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
