using System.Collections.Immutable;
using Akka.Actor;
using ActorStack.Actors.Sockets;
using ActorStack.Hardware.Nic;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Actors.Namespaces;
using ActorStack.Actors.Routing;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Actors.Devices;

/// <summary>
/// The loopback device <c>lo</c> (drivers/net/loopback.c). <c>loopback_xmit</c> turns every buffer
/// sent on it around: the buffer is orphaned (its send-buffer charge returns to the socket at once,
/// <c>skb_orphan</c>), counted as sent and received, and handed to <c>netif_rx</c>, i.e. to the
/// backlog of a CPU. Linux uses the sending CPU; here the flow hash picks the CPU, so one flow stays on
/// one CPU and in order. lo has no qdisc (<c>noqueue</c>) and no ring: a full backlog drops, counted in
/// that CPU's <c>dropped</c>. <c>ptype_all</c> taps see each packet once, as outgoing.
/// </summary>
public sealed class LoopbackActor : UntypedActor
{
    private readonly NetNamespace _ns;
    private readonly NetDevice _dev;
    private readonly RssHasher _hash = new(1);
    private readonly SkbFree _free = new();
    private readonly ImmutableArray<SkBuff>.Builder[] _perCpu;
    private readonly ImmutableArray<IActorRef> _softnet;   // created before the drivers

    public LoopbackActor(NetNamespace ns, HostRefs refs)
    {
        _ns = ns;
        _softnet = refs.Softnet;
        _dev = ns.Loopback;
        _perCpu = Enumerable.Range(0, ns.Settings.Cpus).Select(_ => ImmutableArray.CreateBuilder<SkBuff>()).ToArray();
    }

    // One switch instead of ReceiveActor's per-instance handler set (a loopback device per host).
    protected override void OnReceive(object message)
    {
        if (message is DevQueueXmit m) OnXmit(m);
        else Unhandled(message);
    }

    private void OnXmit(DevQueueXmit m)
    {
        long now = Context.System.Scheduler.Now.UtcTicks;
        long bytes = 0;
        var taps = _ns.Ptypes.All;
        foreach (var skb in m.Skbs)
        {
            _free.Free(skb);
            var frame = skb.Data;
            bytes += frame.Length;
            uint hash = _hash.Hash(frame.Span);
            var rx = new SkBuff(frame, _dev.Ifindex, 0, hash, now, SkBuff.TruesizeFor(frame.Length))
            {
                Protocol = skb.Protocol == 0 ? EtherType.Ipv4 : skb.Protocol,
                PktType = PacketKind.Host,
            };
            foreach (var tap in taps)
                if (tap.Device is null || tap.Device == _dev.Name)
                    tap.Handler.Tell(new SkbBatch([rx.CloneForTap() with { PktType = PacketKind.Outgoing }]), Self);
            _perCpu[(int)(hash % (uint)_perCpu.Length)].Add(rx);
        }
        var st = _dev.Stats;
        Interlocked.Add(ref st.TxPackets, m.Skbs.Length);
        Interlocked.Add(ref st.TxBytes, bytes);
        Interlocked.Add(ref st.RxPackets, m.Skbs.Length);
        Interlocked.Add(ref st.RxBytes, bytes);
        for (int cpu = 0; cpu < _perCpu.Length; cpu++)
        {
            if (_perCpu[cpu].Count == 0) continue;
            _softnet[cpu].Tell(new BacklogEnqueue(_perCpu[cpu].ToImmutable(), cpu), Self);
            _perCpu[cpu].Clear();
        }
        _free.Flush(Self);
    }

    public static Props Props(NetNamespace ns, HostRefs refs) => FactoryProps.Of(() => new LoopbackActor(ns, refs));
}
