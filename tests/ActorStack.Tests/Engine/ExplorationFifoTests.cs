using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Wire;
using ActorStack.Actors.Workloads;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Tests.Engine;

/// <summary>
/// The <c>fifo</c> schedule is the engine as it was before schedule exploration: a ping between two whole hosts over a
/// 250 µs wire has the event count and digest pinned here from the engine before strategies existed, with the default
/// configuration and with <c>actorstack.run.schedule = fifo</c> spelled out.
/// </summary>
public class ExplorationFifoTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static MacAddress Mac(int n) => new(0x02_00_00_00_00_00UL | (uint)n);

    private static HostSettings Host(string name, int mac, string addr, string peer, int peerMac) =>
        new(name, 1, new SysctlSettings(), [new DeviceSettings("eth0", Mac(mac), Addresses: [Ipv4Prefix.TryParse(addr, out var p) ? p : default])])
        {
            Neighbours = [new NeighbourSettings(Ipv4Address.Parse(peer), Mac(peerMac), "eth0")],
        };

    /// <summary>Two hosts, a wire, a ping of 4 probes, 5 s of virtual time; the engine's (events, digest) at the end.</summary>
    internal static async Task<(long Events, ulong Digest)> PingRun(string extraHocon)
    {
        var system = ActorSystem.Create("fifo", StackConfig.AkkaConfig(extraHocon + "\n" + SimEngine.Hocon));
        try
        {
            var engine = SimEngine.For(system);
            engine.Pause();
            var a = system.ActorOf(HostActor.Props(Host("a", 1, "10.0.0.1/24", "10.0.0.2", 2), seed: 1), "a");
            var b = system.ActorOf(HostActor.Props(Host("b", 2, "10.0.0.2/24", "10.0.0.1", 1), seed: 1), "b");
            var inbox = new List<object>();
            var probe = system.ActorOf(Props.Create(() => new Inbox(inbox)), "inbox");
            a.Tell(GetHostDevices.Instance, probe);
            b.Tell(GetHostDevices.Instance, probe);
            engine.RunUntilIdle();
            var da = ((HostDevices)inbox[0]).Devices["eth0"];
            var db = ((HostDevices)inbox[1]).Devices["eth0"];
            var w = system.ActorOf(WireActor.Props(da, db, new WireOptions("w", 1, TimeSpan.FromTicks(2500))), "wire");
            da.Tell(new AttachWire(w));
            db.Tell(new AttachWire(w));
            engine.RunUntilIdle();
            system.ActorOf(PingActor.Props(new PingSettings("a", Ipv4Address.Parse("10.0.0.2"), Count: 4), a, ActorRefs.Nobody, seed: 7), "ping");
            engine.RunFor(TimeSpan.FromSeconds(5));
            return (engine.Executed, engine.Digest);
        }
        finally
        {
            SimEngine.For(system).ReleaseControl();
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private sealed class Inbox : ReceiveActor
    {
        public Inbox(List<object> got) => ReceiveAny(got.Add);
    }

    /// <summary>
    /// <see cref="DeterminismTests"/>' TCP transfer under netem loss (its private Run, through reflection so that file stays
    /// as it is): TCP socket actors stash, so they run on the deque mailbox; under fifo its digest is pinned too.
    /// </summary>
    [Fact]
    public async Task Fifo_TcpTransferUnderNetem_DigestAsBeforeStrategies()
    {
        var run = typeof(DeterminismTests).GetMethod("Run", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        var task = (Task)run.Invoke(null, [5, "delay 1ms loss 2%", 1 << 18, TimeSpan.FromSeconds(1), true])!; // traced, as before
        await task;
        var outcome = task.GetType().GetProperty("Result")!.GetValue(task)!;
        (long Events, ulong Digest) got = ((long)outcome.GetType().GetProperty("Events")!.GetValue(outcome)!,
            (ulong)outcome.GetType().GetProperty("Digest")!.GetValue(outcome)!);
        output.WriteLine($"{got.Events} events, digest {got.Digest:x16}");
        // Pinned before the engine's deque mailbox (the stash's) existed; the fifo path is the engine's as before. The
        // digest's value moved once, when it began mixing each name's cached hash instead of its characters (the same
        // 5,913 events; it was 0xbd490c3c02649b77).
        Assert.Equal((5913L, 0x4979061303270123UL), got);
    }

    [Fact]
    public async Task Fifo_PingBetweenTwoHosts_DigestAndEventCountAsBeforeStrategies()
    {
        var plain = await PingRun("");
        output.WriteLine($"{plain.Events} events, digest {plain.Digest:x16}");
        // Pinned on the engine before scheduling strategies existed (commit e662f1e): 215 events, 0x8dd67cfadfa4abde.
        // One event more since a raw socket's close waits for the IPv4 actor's RawUnregister acknowledgement (the ping's
        // ICMP socket is closed at the end: the acknowledgement is one more mailbox run of the socket): 216 events,
        // 0x9ced58b6a9c04bf1. The digest's value moved again when it began mixing each name's cached hash instead of its
        // characters (the same 216 events, 0x8e65087dd09ff7c9). Sixteen events fewer since the wire tells a frame's
        // completion to the sender and the frame to the far end due at their instants instead of releasing each with a
        // timer and a run of its own (four pings, two frames each, two releases per frame): 200 events.
        Assert.Equal((200L, 0xe6ec7fb238df4edfUL), plain);
        Assert.Equal(plain, await PingRun("actorstack.run { schedule = fifo, schedule-seed = 99 }"));
    }
}
