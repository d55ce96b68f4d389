using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using ActorStack.Tests.Engine;
using ActorStack.Actors.Softnet;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;

namespace ActorStack.Tests.Receive;

/// <summary>
/// One softnet CPU driven by hand (softnet_data, net_rx_action): a TestProbe plays the driver's NAPI and the
/// IPv4 handler, and the simulation engine is the clock, so net_rx_action's budget and time
/// limit are exact. RPS steers everything to this CPU's own backlog, which shares the
/// poll_list and the budget with the driver. Each message to the CPU runs to completion (<see cref="Reply"/>) before
/// the test looks.
/// </summary>
public class SoftnetNapiTests() : EngineKit("softnet-napi")
{
    private static readonly MacAddress Mac = MacAddress.Parse("02:00:00:00:00:02");

    private (NetNamespace Ns, IActorRef Cpu0, TestProbe Driver, TestProbe Ip) Start(string name, SysctlSettings sysctl)
    {
        var dev = new DeviceSettings("eth0", Mac, RpsCpus: [0]);
        var ns = new NetNamespace(new HostSettings(name, 1, sysctl, [dev]), seed: 1);
        var ip = Probe();
        ns.Ptypes = PtypeTable.Empty.Add(new PacketTypeRegistration(EtherType.Ipv4, ip.Ref));
        var cpu0 = Sys.ActorOf(SoftnetActor.Props(ns, 0, HostRefs.None), $"{name}-cpu0");
        cpu0.Tell(HostRefs.None with { Softnet = [cpu0] });   // as the host introduces the softnet actors to each other
        Engine.RunUntilIdle();
        return (ns, cpu0, Probe(), ip);
    }

    /// <summary>The driver's answer to the CPU's last poll, run to completion.</summary>
    private void Reply(TestProbe driver, NapiPollResult result)
    {
        driver.Reply(result);
        Engine.RunUntilIdle();
    }

    private static NapiPollResult Result(int work, bool completed, int first = 0)
        => new(0, Enumerable.Range(first, work)
            .Select(i => new SkBuff(FrameBuilder.Udp(Mac, MacAddress.Parse("02:00:00:00:00:01"), Ipv4Address.Parse("10.0.0.1"),
                Ipv4Address.Parse("10.0.0.2"), 5000, 9000, [(byte)i], (ushort)i), 2, 0, 7, 0, 640) { Protocol = EtherType.Ipv4 })
            .ToImmutableArray(), work, completed);

    [Fact]
    public async Task NetRxAction_BacklogPolledInsideBudget_SqueezesWhenDriverAndBacklogUse300()
    {
        var (ns, cpu0, driver, ip) = Start("budget", new SysctlSettings());
        TellNow(cpu0, new NapiSchedule(driver.Ref, 0), TestActor);

        await driver.ExpectMsgAsync<NapiPoll>(p => p.Weight == 64);
        Reply(driver, Result(64, completed: false));            // budget left 236; the backlog gets these 64
        await driver.ExpectMsgAsync<NapiPoll>();
        // Driver 64 + backlog 64 = 128 used.
        Reply(driver, Result(64, completed: false, first: 64));  // 192, then the backlog's 64 more: 256
        await driver.ExpectMsgAsync<NapiPoll>();
        Reply(driver, Result(64, completed: false, first: 128)); // 320 after the backlog's poll: squeezed
        // The re-raised softirq starts a new run with the driver at the head.
        await driver.ExpectMsgAsync<NapiPoll>();
        Assert.Equal(1, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        Reply(driver, Result(0, completed: true));

        long delivered = 0;
        while (delivered < 192) delivered += (await ip.ExpectMsgAsync<ProtocolDeliver>()).Items.Length;
        Assert.Equal(192, Volatile.Read(ref ns.Softnet[0].Processed));
        Assert.Equal(1, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].ReceivedRps)); // its own backlog: no IPI
        Assert.Equal(0, ns.Softnet[0].Snapshot().BacklogLen);
        await driver.ExpectNoMsgAsync(TimeSpan.Zero); // the completed driver is not polled again
        Assert.Equal(0, Engine.Pending.Count);        // nor is anything else left to run: no timer armed
    }

    [Fact]
    public async Task NetRxAction_SchedulerClockPassesTimeLimit_CountsTimeSqueezeWithBudgetLeft()
    {
        var (ns, cpu0, driver, _) = Start("time", new SysctlSettings(NetdevBudgetUsecs: 2000));
        TellNow(cpu0, new NapiSchedule(driver.Ref, 0), TestActor);

        await driver.ExpectMsgAsync<NapiPoll>();
        Engine.RunFor(TimeSpan.FromMicroseconds(1999));
        Reply(driver, Result(1, completed: false));   // 1999 µs into the run: go on
        await driver.ExpectMsgAsync<NapiPoll>();     // same run: the backlog is listed behind the driver
        Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        Engine.RunFor(TimeSpan.FromMicroseconds(1));
        Reply(driver, Result(1, completed: false, first: 1)); // 2000 µs: time_after_eq, 2 of 300 used
        await driver.ExpectMsgAsync<NapiPoll>();     // the re-raised softirq's new run
        Assert.Equal(1, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        Reply(driver, Result(0, completed: true));
        Assert.Equal(2, Volatile.Read(ref ns.Softnet[0].Processed));
        Assert.Equal(1, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
    }
}
