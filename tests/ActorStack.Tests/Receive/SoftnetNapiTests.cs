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

    private (NetNamespace Ns, IActorRef Cpu0, TestProbe D1, TestProbe D2, TestProbe Ip) StartTwo(string name, SysctlSettings sysctl,
        CpuCostSettings? cost = null, bool waitForIp = false)
    {
        var dev = new DeviceSettings("eth0", Mac);
        var ns = new NetNamespace(new HostSettings(name, 1, sysctl, [dev]) { CpuCost = cost ?? CpuCostSettings.Zero }, seed: 1);
        var ip = Probe();
        ns.Ptypes = PtypeTable.Empty.Add(new PacketTypeRegistration(EtherType.Ipv4, ip.Ref));
        var cpu0 = Sys.ActorOf(SoftnetActor.Props(ns, 0, HostRefs.None), $"{name}-cpu0");
        // With waitForIp the probe is the host's IPv4 handler: it runs inside the softirq and must answer ProtocolBatchDone.
        cpu0.Tell(HostRefs.None with { Softnet = [cpu0], Ip = waitForIp ? ip.Ref : ActorRefs.Nobody });
        Engine.RunUntilIdle();
        return (ns, cpu0, Probe(), Probe(), ip);
    }

    /// <summary>Both NAPIs listed before the softirq runs (two interrupts before the first irq_exit).</summary>
    private void ScheduleBoth(IActorRef cpu0, TestProbe d1, TestProbe d2)
    {
        cpu0.Tell(new NapiSchedule(d1.Ref, 0), TestActor);
        cpu0.Tell(new NapiSchedule(d2.Ref, 0), TestActor);
        Engine.RunUntilIdle();
    }

    [Fact]
    public async Task NetRxAction_TwoNapisAtFullWeight_AlternateOncePerRun_NoSqueeze_TenRunsThenKsoftirqd()
    {
        var (ns, cpu0, d1, d2, _) = StartTwo("alternate", new SysctlSettings());
        ScheduleBoth(cpu0, d1, d2);
        for (int run = 1; run <= 12; run++)
        {
            await d1.ExpectMsgAsync<NapiPoll>();
            await d2.ExpectNoMsgAsync(TimeSpan.Zero);
            Reply(d1, Result(64, completed: false));
            await d2.ExpectMsgAsync<NapiPoll>();
            await d1.ExpectNoMsgAsync(TimeSpan.Zero);  // polled at most once per run: repoll, not A,B,A in one run
            Reply(d2, Result(64, completed: false));
            // 128 of 300 used in each run: re-raised without time_squeeze; the 10th run of a softirq wakes ksoftirqd.
            Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
            Assert.Equal(run + 1, Volatile.Read(ref ns.Softnet[0].NetRxSoftirqs));
            Assert.Equal(run >= 10 ? 1 : 0, Volatile.Read(ref ns.Softnet[0].KsoftirqdWakeups));
        }
        await d1.ExpectMsgAsync<NapiPoll>();
        Reply(d1, Result(0, completed: true));
        await d2.ExpectMsgAsync<NapiPoll>();
        Reply(d2, Result(0, completed: true));
        Assert.Equal(24 * 64, Volatile.Read(ref ns.Softnet[0].Processed));
        Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        Assert.Equal(0, Engine.Pending.Count);
    }

    [Theory]
    [InlineData(128, 3)] // 64 + 64 = 128 ≥ budget: each run ends squeezed, exactly once
    [InlineData(129, 0)] // one more: never
    public async Task NetRxAction_BudgetExhaustedEveryRun_ExactlyOneSqueezePerRun(int budget, int squeezes)
    {
        var (ns, cpu0, d1, d2, _) = StartTwo($"budget{budget}", new SysctlSettings(NetdevBudget: budget));
        ScheduleBoth(cpu0, d1, d2);
        for (int run = 0; run < 3; run++)
        {
            await d1.ExpectMsgAsync<NapiPoll>();
            Reply(d1, Result(64, completed: false));
            await d2.ExpectMsgAsync<NapiPoll>();
            Reply(d2, Result(64, completed: false));
        }
        Assert.Equal(squeezes, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
    }

    [Fact]
    public async Task NetRxAction_PollsCostSimulatedTime_RestartWindowOf2msEndsBeforeTenRuns()
    {
        // napi-poll 5 µs per packet: each full poll keeps the CPU busy 320 µs; the softirq's 7th run ends at
        // 2240 µs ≥ MAX_SOFTIRQ_TIME, so ksoftirqd takes over after 7 runs, not 10; no run reaches its own 2 ms.
        var cost = CpuCostSettings.Zero with { NapiPollNs = 5_000 };
        var (ns, cpu0, d1, _, _) = StartTwo("restart-time", new SysctlSettings(), cost);
        long t0 = Engine.NowNs;
        TellNow(cpu0, new NapiSchedule(d1.Ref, 0), TestActor);
        for (int poll = 1; poll <= 8; poll++)
        {
            await d1.ExpectMsgAsync<NapiPoll>();
            Assert.Equal(t0 + (poll - 1) * 320_000L, Engine.NowNs); // the next poll waits for the previous one's cost
            d1.Reply(Result(64, completed: false));
            Engine.RunUntilNs(Engine.NowNs + 320_000 - 1);
            await d1.ExpectNoMsgAsync(TimeSpan.Zero);              // 1 ns before the CPU is free: nothing
            Engine.RunUntilNs(Engine.NowNs + 1);
            Assert.Equal(poll >= 7 ? 1 : 0, Volatile.Read(ref ns.Softnet[0].KsoftirqdWakeups));
        }
        Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
    }

    [Fact]
    public async Task ProtocolHandlers_RunInsideTheSoftirq_TheirCostDelaysTheNextPollExactly()
    {
        // napi-poll 60 + netif-receive 40 per packet on the softnet; the IPv4 handler reports 1000 ns and hands one
        // batch on (as to UDP), which reports 345 ns: 5 × 100 + 1000 + 345 = 1845 ns before the next NAPI is polled.
        var cost = CpuCostSettings.Zero with { NapiPollNs = 60, NetifReceiveNs = 40 };
        var (_, cpu0, d1, d2, ip) = StartTwo("handler-cost", new SysctlSettings(), cost, waitForIp: true);
        ScheduleBoth(cpu0, d1, d2);
        await d1.ExpectMsgAsync<NapiPoll>();
        long t0 = Engine.NowNs;
        Reply(d1, Result(5, completed: true));
        var batch = await ip.ExpectMsgAsync<ProtocolDeliver>();
        Assert.Equal((5, 0), (batch.Items.Length, batch.Cpu));

        Engine.RunUntilNs(t0 + 10_000);
        await d2.ExpectNoMsgAsync(TimeSpan.Zero); // the softirq waits for its handlers, however long
        long t1 = Engine.NowNs;
        TellNow(cpu0, new ProtocolBatchDone(0, 1_000, 1), ip.Ref);
        Engine.RunUntilNs(t1 + 5_000);
        await d2.ExpectNoMsgAsync(TimeSpan.Zero); // one batch still out
        long t2 = Engine.NowNs;
        TellNow(cpu0, new ProtocolBatchDone(0, 345, 0), ip.Ref);
        // The work began at t0; it is paid for at t0 + 1845 (already past): the next poll goes out now.
        await d2.ExpectMsgAsync<NapiPoll>();
        Assert.Equal(t2, Engine.NowNs);
        Reply(d2, Result(0, completed: true));
    }

    [Fact]
    public async Task ProtocolHandlers_AnswerAtOnce_NextPollAtExactlyTheSumOfTheCosts()
    {
        var cost = CpuCostSettings.Zero with { NapiPollNs = 60, NetifReceiveNs = 40 };
        var (_, cpu0, d1, d2, ip) = StartTwo("handler-cost-now", new SysctlSettings(), cost, waitForIp: true);
        ScheduleBoth(cpu0, d1, d2);
        await d1.ExpectMsgAsync<NapiPoll>();
        long t0 = Engine.NowNs;
        Reply(d1, Result(5, completed: true));
        await ip.ExpectMsgAsync<ProtocolDeliver>();
        TellNow(cpu0, new ProtocolBatchDone(0, 1_000, 1), ip.Ref);
        TellNow(cpu0, new ProtocolBatchDone(0, 345, 0), ip.Ref);
        Engine.RunUntilNs(t0 + 1_844);
        await d2.ExpectNoMsgAsync(TimeSpan.Zero);
        Engine.RunUntilNs(t0 + 1_845);
        await d2.ExpectMsgAsync<NapiPoll>();
        Assert.Equal(t0 + 1_845, Engine.NowNs);
    }

    [Fact]
    public async Task NetRxAction_BacklogPolledInsideBudget_OncePerRun()
    {
        var (ns, cpu0, driver, ip) = Start("budget", new SysctlSettings());
        TellNow(cpu0, new NapiSchedule(driver.Ref, 0), TestActor);

        await driver.ExpectMsgAsync<NapiPoll>(p => p.Weight == 64);
        Reply(driver, Result(64, completed: false));            // 64 to the own backlog; the run ends (repoll)
        await driver.ExpectMsgAsync<NapiPoll>();                // run 2: the driver (the backlog was listed after)
        Reply(driver, Result(64, completed: false, first: 64));
        await driver.ExpectMsgAsync<NapiPoll>();                // run 3: backlog (64), then the driver
        Reply(driver, Result(0, completed: true));

        long delivered = 0;
        while (delivered < 128) delivered += (await ip.ExpectMsgAsync<ProtocolDeliver>()).Items.Length;
        Assert.Equal(128, Volatile.Read(ref ns.Softnet[0].Processed));
        Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].ReceivedRps)); // its own backlog: no IPI
        Assert.Equal(0, ns.Softnet[0].Snapshot().BacklogLen);
        await driver.ExpectNoMsgAsync(TimeSpan.Zero); // the completed driver is not polled again
        Assert.Equal(0, Engine.Pending.Count);        // nor is anything else left to run: no timer armed
    }

    [Fact]
    public async Task NetRxAction_SchedulerClockPassesTimeLimit_CountsTimeSqueezeWithBudgetLeft()
    {
        var (ns, cpu0, d1, d2, _) = StartTwo("time", new SysctlSettings(NetdevBudgetUsecs: 2000));
        ScheduleBoth(cpu0, d1, d2);

        await d1.ExpectMsgAsync<NapiPoll>();
        Engine.RunUntilNs(Engine.NowNs + 1_999_999);
        Reply(d1, Result(1, completed: true));      // 1 ns before the limit: go on
        await d2.ExpectMsgAsync<NapiPoll>();
        Assert.Equal(0, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        Engine.RunUntilNs(Engine.NowNs + 1);
        Reply(d2, Result(1, completed: false));      // 2000 µs: time_after_eq, 2 of 300 used
        Assert.Equal(1, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
        await d2.ExpectMsgAsync<NapiPoll>();         // 2 ms is MAX_SOFTIRQ_TIME too: ksoftirqd's run
        Assert.Equal(1, Volatile.Read(ref ns.Softnet[0].KsoftirqdWakeups));
        Reply(d2, Result(0, completed: true));
        Assert.Equal(2, Volatile.Read(ref ns.Softnet[0].Processed));
        Assert.Equal(1, Volatile.Read(ref ns.Softnet[0].TimeSqueeze));
    }

    /// <summary>
    /// <c>enqueue_to_backlog</c>'s bound exactly: a buffer is admitted while <c>qlen &lt;= netdev_max_backlog</c>, so
    /// with the limit at 10 the 11th single-buffer enqueue still goes in and the 12th is dropped (CPU_BACKLOG), both
    /// offered before the softirq runs; a batch is cut at the same place.
    /// </summary>
    [Theory]
    [InlineData(11, 1, 0)]
    [InlineData(12, 1, 1)]
    [InlineData(11, 11, 0)]
    [InlineData(12, 12, 1)]
    [InlineData(30, 30, 19)]
    public async Task Backlog_MaxBacklog10_AdmitsExactly11(int offered, int perEnqueue, long dropped)
    {
        var (ns, cpu0, _, _, ip) = StartTwo($"bound{offered}-{perEnqueue}", new SysctlSettings(NetdevMaxBacklog: 10));
        var items = Result(offered, completed: false).Skbs;
        for (int i = 0; i < offered; i += perEnqueue)
            cpu0.Tell(new BacklogEnqueue(items.Slice(i, Math.Min(perEnqueue, offered - i)), 0), ActorRefs.NoSender);
        Engine.RunUntilIdle();
        var sd = ns.Softnet[0];
        Assert.Equal((dropped, offered - dropped), (Volatile.Read(ref sd.Dropped), Volatile.Read(ref sd.Processed)));
        Assert.Equal(dropped, ns.Drops.Snapshot().Where(d => d.Site == new DropSite(DropReason.CPU_BACKLOG, "cpu0")).Sum(d => d.Packets));
        long delivered = 0;
        while (delivered < offered - dropped) delivered += (await ip.ExpectMsgAsync<ProtocolDeliver>()).Items.Length;
        Assert.Equal(offered - dropped, delivered);

        // Once drained, the backlog admits 11 again.
        for (int i = 0; i < 12; i++) cpu0.Tell(new BacklogEnqueue(items.Slice(0, 1), 0), ActorRefs.NoSender);
        Engine.RunUntilIdle();
        Assert.Equal(dropped + 1, Volatile.Read(ref sd.Dropped));
    }

    /// <summary>
    /// Overload on the virtual clock: netif_rx-style enqueues of 10 packets to the CPU's backlog every
    /// <paramref name="intervalNs"/>, 1000 times, on a CPU whose <c>__netif_receive_skb_core</c> costs 1 µs per packet
    /// (capacity 1,000,000 packets/s), <c>netdev_max_backlog</c> 100, <c>netdev_budget_usecs</c> 50. At capacity the CPU
    /// keeps up: no drop, each poll takes the 10 packets there in 10 µs, no squeeze. 11 % over it, the backlog fills,
    /// the overflow is counted in <c>dropped</c> (CPU_BACKLOG), and every full poll (64 µs) passes the run's 50 µs:
    /// the CPU processes one packet per µs for the 8.991 ms of offer (8,991) plus what the backlog holds at the end
    /// (130), 9,121 in 143 squeezed full polls (9,121 / 64 = 142.5); the other 879 overflowed the backlog.
    /// </summary>
    [Theory]
    [InlineData(10_000, 0, 0, 10_000)]
    [InlineData(9_000, 879, 143, 9_121)]
    public async Task Backlog_OfferedOverCpuCapacity_DroppedAndTimeSqueezeExact(long intervalNs, long dropped, long squeezes, long processed)
    {
        var cost = CpuCostSettings.Zero with { NetifReceiveNs = 1_000 };
        var sysctl = new SysctlSettings(NetdevMaxBacklog: 100, NetdevBudgetUsecs: 50);
        var (ns, cpu0, _, _, ip) = StartTwo($"overload{intervalNs}", sysctl, cost);
        var items = Result(10, completed: false).Skbs;
        long t0 = Engine.NowNs;
        for (int i = 0; i < 1000; i++)
        {
            Engine.RunUntilNs(t0 + i * intervalNs);
            cpu0.Tell(new BacklogEnqueue(items, 0), ActorRefs.NoSender);
        }
        Engine.RunUntilNs(t0 + 20_000_000); // everything admitted is processed by then
        var sd = ns.Softnet[0];
        Assert.Equal((dropped, squeezes, processed),
            (Volatile.Read(ref sd.Dropped), Volatile.Read(ref sd.TimeSqueeze), Volatile.Read(ref sd.Processed)));
        Assert.Equal(10_000, dropped + processed);
        Assert.Equal(dropped, ns.Drops.Snapshot().Where(d => d.Site.Reason == DropReason.CPU_BACKLOG).Sum(d => d.Packets));
        Assert.Equal(0, sd.Snapshot().BacklogLen);
        await ip.ExpectMsgAsync<ProtocolDeliver>();
    }

    /// <summary>
    /// <c>gro_normal_batch</c> (8): a poll of n non-mergeable (UDP) frames reaches the IPv4 handler as
    /// <c>gro_normal_list</c> hands them up: 7 as one list at <c>napi_complete_done</c>, 8 as one list when the 8th
    /// arrives, 9 as 8 then 1.
    /// </summary>
    [Theory]
    [InlineData(7, new[] { 7 })]
    [InlineData(8, new[] { 8 })]
    [InlineData(9, new[] { 8, 1 })]
    [InlineData(17, new[] { 8, 8, 1 })]
    public async Task Gro_NormalBatch_HandsUpListsOfEight(int n, int[] lists)
    {
        var (ns, cpu0, d1, _, ip) = StartTwo($"gro-batch{n}", new SysctlSettings());
        TellNow(cpu0, new NapiSchedule(d1.Ref, 0), TestActor);
        await d1.ExpectMsgAsync<NapiPoll>();
        Reply(d1, Result(n, completed: true));
        var got = new List<int>();
        foreach (var _ in lists) got.Add((await ip.ExpectMsgAsync<ProtocolDeliver>()).Items.Length);
        await ip.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(lists, got.ToArray());
        Assert.Equal((long)n, Volatile.Read(ref ns.Device(2)!.Offload.GroNormal));
    }

    [Fact]
    public async Task Gro_NormalBatch_FromConfig_Batch3()
    {
        var (_, cpu0, d1, _, ip) = StartTwo("gro-batch-3", new SysctlSettings { GroNormalBatch = 3 });
        TellNow(cpu0, new NapiSchedule(d1.Ref, 0), TestActor);
        await d1.ExpectMsgAsync<NapiPoll>();
        Reply(d1, Result(7, completed: true));
        var got = new List<int>();
        for (int i = 0; i < 3; i++) got.Add((await ip.ExpectMsgAsync<ProtocolDeliver>()).Items.Length);
        await ip.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal([3, 3, 1], got.ToArray());
    }

    /// <summary>A poll's worth of frames: <paramref name="udp"/> UDP frames, then one TCP data segment (GRO holds it).</summary>
    private static NapiPollResult UdpAndTcp(int udp, bool completed)
    {
        var skbs = Result(udp, completed).Skbs;
        if (udp < 64) skbs = skbs.Add(ActorStack.Tests.Offload.OffloadFrames.Skb(
            ActorStack.Tests.Offload.OffloadFrames.Frame(1000, ActorStack.Tests.Offload.OffloadFrames.Payload(1000, 1))));
        return new NapiPollResult(0, skbs, skbs.Length, completed);
    }

    /// <summary>
    /// Held packets live across polls (<c>__napi_poll</c> → <c>napi_gro_flush(napi, HZ >= 1000)</c>): a TCP segment
    /// held in a full-weight poll stays held through the next full-weight poll of the same jiffy and goes up at the end
    /// of the first full-weight poll of a later jiffy. napi-poll costs c ns per frame, so the second poll ends at
    /// t0 + 64c: with c = 15,624 ns that is 999,936 ns (the same jiffy), with 15,625 exactly the next one.
    /// </summary>
    [Theory]
    [InlineData(15_624, false)]
    [InlineData(15_625, true)]
    public async Task Gro_HeldPacket_KeptThroughThisJiffysPolls_FlushedByAFullPollOfTheNextJiffy(long costNs, bool nextJiffy)
    {
        var cost = CpuCostSettings.Zero with { NapiPollNs = costNs };
        var (ns, cpu0, d1, _, ip) = StartTwo($"gro-jiffy{costNs}", new SysctlSettings(), cost);
        Engine.RunUntilNs((Engine.NowNs / 1_000_000 + 1) * 1_000_000); // start on a jiffy boundary
        long t0 = Engine.NowNs;
        TellNow(cpu0, new NapiSchedule(d1.Ref, 0), TestActor);
        await d1.ExpectMsgAsync<NapiPoll>();
        Assert.Equal(t0, Engine.NowNs);
        Reply(d1, UdpAndTcp(63, completed: false));             // 63 UDP go up (7 lists of 8, then 7); the TCP segment is held
        for (int i = 0; i < 8; i++) Assert.Equal(i < 7 ? 8 : 7, (await ip.ExpectMsgAsync<ProtocolDeliver>()).Items.Length);
        await ip.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(1L, Volatile.Read(ref ns.Device(2)!.Offload.GroHeld));
        Assert.Equal(0L, Volatile.Read(ref ns.Device(2)!.Offload.GroFlushed));

        Engine.RunUntilNs(t0 + 64 * costNs - 1);
        await d1.ExpectNoMsgAsync(TimeSpan.Zero);
        Engine.RunUntilNs(t0 + 64 * costNs);                    // the CPU has paid for the first poll
        await d1.ExpectMsgAsync<NapiPoll>();
        Reply(d1, UdpAndTcp(64, completed: false));              // 64 UDP: 8 lists of 8; then napi_gro_flush(true)
        for (int i = 0; i < 8; i++) Assert.Equal(8, (await ip.ExpectMsgAsync<ProtocolDeliver>()).Items.Length);
        if (nextJiffy)
        {
            var tcp = await ip.ExpectMsgAsync<ProtocolDeliver>();
            Assert.Equal(IpProtocol.Tcp, FlowKeys.Dissect(Assert.Single(tcp.Items).Data.Span).Protocol);
        }
        await ip.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(nextJiffy ? 1L : 0L, Volatile.Read(ref ns.Device(2)!.Offload.GroFlushed));

        Engine.RunUntilNs(t0 + 128 * costNs + 1_000_000);       // paid for, and any ksoftirqd run
        await d1.ExpectMsgAsync<NapiPoll>();
        Reply(d1, Result(0, completed: true));                   // napi_complete_done: napi_gro_flush(false)
        if (!nextJiffy)
        {
            var tcp = await ip.ExpectMsgAsync<ProtocolDeliver>();
            Assert.Equal(IpProtocol.Tcp, FlowKeys.Dissect(Assert.Single(tcp.Items).Data.Span).Protocol);
        }
        await ip.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal((1L, 1L, 127L), (Volatile.Read(ref ns.Device(2)!.Offload.GroHeld),
            Volatile.Read(ref ns.Device(2)!.Offload.GroFlushed), Volatile.Read(ref ns.Device(2)!.Offload.GroNormal)));
    }
}
