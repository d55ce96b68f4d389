using Akka.Actor;
using ActorStack.Actors.Ipv4;
using ActorStack.Actors.Softnet;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Config;

namespace ActorStack.Actors.Icmp;

/// <summary>
/// The ICMP handler of one host (net/ipv4/icmp.c), a shell around <see cref="IcmpCore"/>. Receives what
/// <c>ip_local_deliver</c> hands to protocol 1 (<see cref="ProtocolDeliver"/>, <c>icmp_rcv</c>) and the errors any
/// actor of the host asks for (<see cref="IcmpSendError"/>, <c>__icmp_send</c>); carries out the core's decisions:
/// replies and errors to <c>ip_local_out</c>, errors about packets this host sent as an
/// <see cref="IcmpErrorReceived"/> to the UDP or TCP handler (<c>icmp_socket_deliver</c>).
/// </summary>
public sealed class IcmpActor : UntypedActor
{
    private readonly NetNamespace _ns;
    private readonly IcmpCore _core;
    private readonly IpOutput _out;
    private readonly IcmpDecisions _decisions = new();
    private readonly CpuCostSettings _cost;

    public IcmpActor(NetNamespace ns, HostRefs refs, IcmpSettings? settings = null)
    {
        _ns = ns;
        settings ??= IcmpSettings.Default;
        var limiter = new IcmpRateLimiter(ns.Sysctl.Icmp,
            settings.RandomGlobalConsume ? new Random(ns.SeedFor("icmp_global")) : null);
        _out = new IpOutput(ns, refs);
        _core = new IcmpCore(ns, settings, limiter, _out);
        _cost = SoftirqWork.Costs(Context.System, ns);
    }

    // One switch instead of ReceiveActor's per-instance handler set (an ICMP actor per host).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case HostRefs r: _out.Refs = r; break;
            case ProtocolDeliver m: OnDeliver(m); break;
            case IcmpSendError m: OnSendError(m); break;
            case NeighOutputDone m: _out.NeighDone(m); break;
            default: Unhandled(message); break;
        }
    }

    private long NowTicks => Context.System.Scheduler.Now.UtcTicks;

    /// <summary>
    /// <c>icmp_rcv</c> for a batch inside the delivering CPU's softirq, answered to its softnet actor with the cost:
    /// <c>icmp-rcv</c> per message and <c>output</c> per reply or error sent.
    /// </summary>
    private void OnDeliver(ProtocolDeliver m)
    {
        long now = NowTicks;
        int sent = 0;
        try
        {
            foreach (var skb in m.Items)
            {
                if (_core.IcmpRcv(skb, now, _decisions) is { } reason)
                    _ns.Drops.Add(reason, "icmp");
                sent += _decisions.Transmits.Count;
                Apply(now);
            }
        }
        finally
        {
            SoftirqWork.Done(_out.Refs, m.Cpu, _cost.IcmpRcvNs * m.Items.Length + _cost.OutputNs * sent, 0, Self);
        }
        _out.Flush(Self);
    }

    private void OnSendError(IcmpSendError m)
    {
        long now = NowTicks;
        _core.IcmpSend(m, now, _decisions);
        Apply(now);
        _out.Flush(Self);
    }

    /// <summary>The core's decisions, in order: <c>ip_local_out</c> for each message built; each error to its protocol.</summary>
    private void Apply(long now)
    {
        foreach (var t in _decisions.Transmits) _out.LocalOut(t.Skb, t.Route, now);
        foreach (var u in _decisions.PmtuUpdates) _out.Refs.Routing.Tell(u, Self); // the FIB's owner keeps the exceptions
        foreach (var e in _decisions.Deliveries)
            (e.Protocol == IpProtocol.Tcp ? _out.Refs.Tcp : _out.Refs.Udp).Tell(e.Error, Self); // tcp_v4_err / udp_err
        _decisions.Clear();
    }

    public static Props Props(NetNamespace ns, HostRefs refs, IcmpSettings? settings = null)
        => FactoryProps.Of(() => new IcmpActor(ns, refs, settings));
}
