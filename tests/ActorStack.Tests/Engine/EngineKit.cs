using Akka.Actor;
using Akka.TestKit;
using ActorStack.Actors.Engine;
using ActorStack.Config;
using ActorStack.Actors.Namespaces;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Testing;

namespace ActorStack.Tests.Engine;

/// <summary>
/// The project's own engine TestKit: <see cref="StackTestKit"/> (ActorStack.TestKit: the system on the product's
/// <see cref="SimEngine"/>, paused after boot; RunUntil, Ask, Expect, Probe) plus what the project's unit tests of single
/// actors use: <see cref="AskNow{T}"/>, <see cref="TellNow"/>, <see cref="OneNicHost"/>.
/// </summary>
public abstract class EngineKit(string name, string extraHocon = "") : StackTestKit(name, extraHocon)
{
    /// <summary>Ask on the engine: tells with <paramref name="probe"/> as sender, runs what is due now, then takes the reply.</summary>
    protected async Task<T> AskNow<T>(TestProbe probe, IActorRef target, object message)
    {
        target.Tell(message, probe.Ref);
        Engine.RunUntilIdle();
        return await probe.ExpectMsgAsync<T>(TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Host "h" with one CPU and eth0 (MAC 02:00:00:00:00:02, 10.0.0.2/24) on the engine, its NIC and a probe to ask with:
    /// for tests that feed frames straight into a NIC.
    /// </summary>
    protected async Task<(IActorRef Host, IActorRef Nic, TestProbe Asker)> OneNicHost()
    {
        var asker = Probe();
        var settings = new HostSettings("h", 1, new SysctlSettings(),
            [new DeviceSettings("eth0", new MacAddress(0x02_00_00_00_00_02UL), Addresses: [new Ipv4Prefix(Ipv4Address.Parse("10.0.0.2"), 24)])]);
        var host = Sys.ActorOf(HostActor.Props(settings, seed: 1), "h");
        var nic = (await AskNow<HostDevices>(asker, host, GetHostDevices.Instance)).Devices["eth0"];
        return (host, nic, asker);
    }

    /// <summary>Tells <paramref name="message"/> to <paramref name="target"/> from <paramref name="sender"/> and runs what is due now.</summary>
    protected void TellNow(IActorRef target, object message, IActorRef sender)
    {
        target.Tell(message, sender);
        Engine.RunUntilIdle();
    }

    protected static TimeSpan Us(double us) => TimeSpan.FromTicks((long)Math.Round(us * 10));
}
