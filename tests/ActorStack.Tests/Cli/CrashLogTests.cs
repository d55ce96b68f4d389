namespace ActorStack.Tests.Cli;

/// <summary>Serilog's console sink writes to the process's console: the test that swaps it runs alone.</summary>
[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture;

/// <summary>
/// An intended driver crash (the schedule's <c>crash</c> action, examples/tcp.hocon) is one log line, the host's decision
/// (<c>HostActor.DecideDriver</c>), not Akka's supervisor log of the NIC actor's failure with its stack trace.
/// </summary>
[Collection(nameof(ConsoleCapture))]
public sealed class CrashLogTests
{
    [Fact]
    public async Task TcpExample_DriverCrash_IsOneLogLine_NoStackTrace()
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var console = new StringWriter();
        Console.SetOut(console);
        Console.SetError(console);
        (int Rc, string Out, string Err) r;
        try { r = await ClockTests.Cli("run", "--config", ClockTests.RepoPath("examples/tcp.hocon")); }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
        Assert.Equal(0, r.Rc);
        Assert.Contains("[fault +3.5s]   h2: eth0: driver crashed, supervisor resets the device", r.Out);
        var all = (r.Out + "\n" + r.Err + "\n" + console).Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        // The one line: the supervisor's decision with the fault's message.
        Assert.Single(all, l => l.Contains("driver fault: crash driver"));
        Assert.Single(all, l => l.EndsWith(" WRN] h2 eth0: eth0: driver fault: crash driver; resetting the device (1 in window)"));
        Assert.DoesNotContain(all, l => l.StartsWith("   at "));
        Assert.DoesNotContain(all, l => l.Contains("DriverFaultException") || l.Contains(" ERR] "));
    }
}
