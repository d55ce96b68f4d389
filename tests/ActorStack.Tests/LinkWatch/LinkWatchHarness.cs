using ActorStack.Actors.Devices;
using ActorStack.Actors.LinkWatch;
using ActorStack.Config;

namespace ActorStack.Tests.LinkWatch;

using Engine = ActorStack.Actors.LinkWatch.LinkWatch;

/// <summary>Records every sink call as one line, in order; notifier blocks in tests append to the same log.</summary>
internal sealed class RecordingSink : ILinkWatchSink
{
    public List<string> Log { get; } = new();

    public void NetdevNotifier(NetdevEvent ev, NetDeviceState dev) => Log.Add($"{ev} {dev.Name}");
    public void RtmNewLink(LinkSnapshot link) => Log.Add($"RTM_NEWLINK {link.Name} {link.OperState}");
    public void RtmDelLink(LinkSnapshot link) => Log.Add($"RTM_DELLINK {link.Name}");
    public void DevActivate(NetDeviceState dev) => Log.Add($"dev_activate {dev.Name}");
    public void DevDeactivate(NetDeviceState dev) => Log.Add($"dev_deactivate {dev.Name}");
    public void WatchdogUp(NetDeviceState dev) => Log.Add($"watchdog_up {dev.Name}");

    public string[] Take()
    {
        var a = Log.ToArray();
        Log.Clear();
        return a;
    }
}

/// <summary>A namespace with devices brought up the way a driver and <c>ip link set up</c> do it.</summary>
internal sealed class LinkWatchHarness
{
    public RecordingSink Sink { get; } = new();
    public Engine Lw { get; }

    public LinkWatchHarness() => Lw = new Engine(Sink);

    /// <summary>Probe (carrier off before register_netdevice), register; nothing opened.</summary>
    public NetDeviceState Registered(string name, int ifIndex, bool carrierOffAtProbe = true, int? ifLink = null)
    {
        var dev = new NetDeviceState(name, ifIndex) { IfLink = ifLink };
        if (carrierOffAtProbe) Lw.CarrierOff(dev, 0);
        Assert.Equal(Messages.Errno.OK, Lw.RegisterNetdevice(dev));
        return dev;
    }

    /// <summary>
    /// Registered, <c>ip link set up</c>, link partner detected at t=0 and the
    /// link-watch work run at t=0, so the device is UP with TX flowing. The
    /// rate-limit second then ends at 1000 ms; tests start later. Log cleared.
    /// </summary>
    public NetDeviceState[] Up(params string[] names)
    {
        var devs = names.Select((n, i) => Registered(n, i + 2)).ToArray();
        foreach (var d in devs) Assert.Equal(Messages.Errno.OK, Lw.DevOpen(d));
        foreach (var d in devs) Lw.CarrierOn(d, 0);
        Assert.True(Lw.RunWork(0));
        foreach (var d in devs)
        {
            Assert.Equal(IfOperState.UP, d.OperState);
            Assert.Equal(TxQdiscState.Active, d.TxQdisc);
        }
        Sink.Take();
        return devs;
    }
}
