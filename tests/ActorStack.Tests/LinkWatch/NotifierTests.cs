using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Config;

namespace ActorStack.Tests.LinkWatch;

/// <summary>netdev_state_change and the netdevice notifier chain.</summary>
public class NotifierTests
{
    private static NetdevNotifierBlock Block(string name, int priority, List<string> log,
        NotifyResult result = NotifyResult.NOTIFY_OK)
        => new(name, (ev, dev) => { log.Add($"{name}:{ev} {dev.Name}"); return result; }, priority);

    [Fact]
    public void NotifierChain_PriorityThenRegistrationOrder_CalledInThatOrder()
    {
        var log = new List<string>();
        var chain = new NetdevNotifierChain();
        var a = Block("a", 0, log);
        var b = Block("b", 10, log);
        var c = Block("c", 0, log);
        var d = Block("d", 10, log);
        var e = Block("e", -5, log);
        foreach (var nb in new[] { a, b, c, d, e }) Assert.True(chain.Register(nb));
        Assert.False(chain.Register(a));   // double registration refused

        chain.CallChain(NetdevEvent.NETDEV_CHANGE, new NetDeviceState("eth0", 2));

        Assert.Equal(new[] { "b:NETDEV_CHANGE eth0", "d:NETDEV_CHANGE eth0", "a:NETDEV_CHANGE eth0", "c:NETDEV_CHANGE eth0", "e:NETDEV_CHANGE eth0" }, log);
    }

    [Fact]
    public void NotifierChain_StopResult_EndsTheWalk()
    {
        var log = new List<string>();
        var chain = new NetdevNotifierChain();
        chain.Register(Block("first", 5, log));
        chain.Register(Block("stopper", 0, log, NotifyResult.NOTIFY_STOP));
        chain.Register(Block("never", -1, log));

        var ret = chain.CallChain(NetdevEvent.NETDEV_UP, new NetDeviceState("eth0", 2));

        Assert.Equal(NotifyResult.NOTIFY_STOP, ret);
        Assert.Equal(new[] { "first:NETDEV_UP eth0", "stopper:NETDEV_UP eth0" }, log);
    }

    [Fact]
    public void NotifierChain_FullChain_RefusesRegistration()
    {
        var chain = new NetdevNotifierChain(capacity: 2);
        var log = new List<string>();
        Assert.True(chain.Register(Block("a", 0, log)));
        Assert.True(chain.Register(Block("b", 0, log)));
        Assert.False(chain.Register(Block("c", 0, log)));
        Assert.Equal(2, chain.Count);
    }

    [Fact]
    public void NetdevStateChange_SubscribersThenRtmNewLink_InOrderAndUnsubscribedOneSkipped()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        var log = h.Sink.Log;   // one timeline for sink calls and notifier calls
        var neigh = Block("neigh", 0, log);
        var route = Block("fib", 0, log);
        var early = Block("bond", 100, log);
        Assert.True(h.Lw.Notifiers.Register(neigh));
        Assert.True(h.Lw.Notifiers.Register(route));
        Assert.True(h.Lw.Notifiers.Register(early));

        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.RunWork(10_000);

        Assert.Equal(new[]
        {
            "dev_deactivate eth0",
            "NETDEV_CHANGE eth0",          // call_netdevice_notifiers reaches the sink first
            "bond:NETDEV_CHANGE eth0",
            "neigh:NETDEV_CHANGE eth0",
            "fib:NETDEV_CHANGE eth0",
            "RTM_NEWLINK eth0 DOWN",
        }, h.Sink.Take());

        Assert.True(h.Lw.Notifiers.Unregister(neigh));
        Assert.False(h.Lw.Notifiers.Unregister(neigh));

        h.Lw.CarrierOn(eth0, 10_500);      // urgent: qdisc is noop
        h.Lw.RunWork(10_500);

        Assert.Equal(new[]
        {
            "watchdog_up eth0",
            "dev_activate eth0",
            "watchdog_up eth0",
            "NETDEV_CHANGE eth0",
            "bond:NETDEV_CHANGE eth0",
            "fib:NETDEV_CHANGE eth0",
            "RTM_NEWLINK eth0 UP",
        }, h.Sink.Take());
    }

    [Fact]
    public void NetdevNotifier_ListenerReadsCurrentDeviceState_NotAnUpDownValue()
    {
        var h = new LinkWatchHarness();
        var eth0 = h.Up("eth0")[0];
        var seen = new List<(bool Carrier, IfOperState Oper)>();
        h.Lw.Notifiers.Register(new NetdevNotifierBlock("reader", (ev, dev) =>
        {
            if (ev == NetdevEvent.NETDEV_CHANGE) seen.Add((dev.CarrierOk, dev.OperState));
            return NotifyResult.NOTIFY_DONE;
        }));

        // Down then up before the work: one event, and it shows the state at run time.
        h.Lw.CarrierOff(eth0, 10_000);
        h.Lw.CarrierOn(eth0, 10_001);
        h.Lw.RunWork(10_001);

        Assert.Equal(new[] { (true, IfOperState.UP) }, seen);
    }

    [Fact]
    public void RegisterNetdeviceNotifier_ExistingDevices_ReplaysRegisterAndUpToNewBlockOnly()
    {
        var h = new LinkWatchHarness();
        h.Up("eth0");
        h.Registered("eth1", 3);
        var log = new List<string>();
        var old = Block("old", 0, log);
        h.Lw.Notifiers.Register(old);
        h.Sink.Take();

        var late = Block("late", 0, log);
        Assert.True(h.Lw.RegisterNetdeviceNotifier(late));

        Assert.Equal(new[] { "late:NETDEV_REGISTER eth0", "late:NETDEV_UP eth0", "late:NETDEV_REGISTER eth1" }, log);
        Assert.Empty(h.Sink.Log);
        log.Clear();

        Assert.True(h.Lw.UnregisterNetdeviceNotifier(late));

        Assert.Equal(new[]
        {
            "late:NETDEV_GOING_DOWN eth0", "late:NETDEV_DOWN eth0", "late:NETDEV_UNREGISTER eth0",
            "late:NETDEV_UNREGISTER eth1",
        }, log);
        Assert.Equal(new[] { old }, h.Lw.Notifiers.Blocks);
    }
}
