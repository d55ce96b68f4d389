using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using ActorStack.Config;
using ActorStack.Testing;
using Xunit.Abstractions;

namespace ActorStack.Tests.Support;

/// <summary>
/// Who logs: the library's <c>stack.hocon</c> sets no <c>akka.loggers</c>, so a TestKit over the stack's
/// configuration keeps TestKit's own logger (<see cref="Akka.TestKit.TestKitBase.EventFilter"/> sees the log events)
/// and, given xunit's <see cref="ITestOutputHelper"/> (here through <see cref="StackTestKit"/>, on the simulation
/// engine), writes them to the test's output; the CLI chooses Serilog for itself. The loggers run on their own
/// thread-pool dispatcher (<c>akka.loggers-dispatcher</c>), outside the simulation: what they write is awaited on the
/// wall clock.
/// </summary>
public sealed class TestLoggingTests : StackTestKit
{
    private readonly RecordingOutput _output;

    public TestLoggingTests(ITestOutputHelper output) : this(new RecordingOutput(output)) { }

    private TestLoggingTests(RecordingOutput output) : base("test-logging", output: output) => _output = output;

    [Fact]
    public void The_library_configuration_leaves_the_logger_to_its_host()
    {
        Assert.False(StackConfig.AkkaConfig().HasPath("akka.loggers"));
        Assert.Equal(["Akka.TestKit.TestEventListener, Akka.TestKit"], Sys.Settings.Loggers);
    }

    [Fact]
    public void The_CLI_logs_through_Serilog_unless_the_scenario_says_otherwise()
    {
        const string serilog = "ActorStack.Cli.StackLogger, actorstack"; // Serilog with the actors' properties (Cli/Logging.cs)
        Assert.Equal([serilog], ActorStack.Cli.Runner.AkkaConfig(null, verbose: false).GetStringList("akka.loggers"));
        Assert.Equal("INFO", ActorStack.Cli.Runner.AkkaConfig(null, verbose: false).GetString("akka.loglevel"));
        Assert.Equal("DEBUG", ActorStack.Cli.Runner.AkkaConfig(null, verbose: true).GetString("akka.loglevel"));
        var user = ActorStack.Cli.Runner.AkkaConfig("akka.loggers = [\"Akka.Event.DefaultLogger\"]", verbose: false);
        Assert.Equal(["Akka.Event.DefaultLogger"], user.GetStringList("akka.loggers"));
        // The rest of stack.hocon is still under the CLI's choice.
        Assert.Equal(4096, user.GetInt("actorstack-nic-mailbox.capacity"));
    }

    [Fact]
    public async Task An_actor_log_line_is_seen_by_EventFilter_and_reaches_the_test_output()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Logs()), "logs");
        await EventFilter.Warning(contains: "dropped 3 frames (rx_fifo_errors)").ExpectOneAsync(() =>
        {
            actor.Tell(3);
            Engine.RunUntilIdle(); // the actor's turn, on the engine
            return Task.CompletedTask;
        });
        await AwaitAssertAsync(() => Assert.Contains(_output.Lines, l => l.Contains("dropped 3 frames (rx_fifo_errors)")),
            Timeouts.Wall, TimeSpan.FromMilliseconds(10));
        Assert.DoesNotContain(_output.Lines, l => l.Contains("dropped 4 frames"));
    }

    private sealed class Logs : ReceiveActor
    {
        public Logs()
        {
            var log = Context.GetLogger();
            Receive<int>(n => log.Warning("dropped {0} frames (rx_fifo_errors)", n));
        }
    }

    /// <summary>Passes every line on to xunit's helper and keeps it for the assertions.</summary>
    private sealed class RecordingOutput(ITestOutputHelper inner) : ITestOutputHelper
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines.ToArray();

        public void WriteLine(string message)
        {
            _lines.Enqueue(message);
            inner.WriteLine(message);
        }

        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(format, args));
    }
}
