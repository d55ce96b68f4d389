using Akka.Actor;
using ActorStack.Actors.Engine;
using ActorStack.Actors.Namespaces;
using ActorStack.Config;
using ActorStack.Messages;

namespace ActorStack.Actors.Softnet;

/// <summary>
/// What a protocol handler needs to run inside a CPU's softirq: the CPU cost per packet and stage it charges
/// (<c>host-defaults.cpu-cost</c>, on the virtual clock only; on the real clock the machine's own CPU is the cost and
/// every cost is 0) and the <see cref="ProtocolBatchDone"/> it owes the softnet actor of the CPU that handed it a batch.
/// </summary>
public static class SoftirqWork
{
    /// <summary>The costs a handler of <paramref name="ns"/> charges in <paramref name="system"/>: the host's on the engine, else none.</summary>
    public static CpuCostSettings Costs(ActorSystem system, NetNamespace ns)
        => SimEngine.IsVirtual(system) ? ns.Settings.CpuCost : CpuCostSettings.Zero;

    /// <summary>A handler's work on one batch; it sets <paramref name="reported"/> once it has told the softnet it is done.</summary>
    public delegate void BatchHandler(ProtocolDeliver batch, ref bool reported);

    /// <summary>
    /// Runs <paramref name="handler"/> on <paramref name="batch"/>; if it throws before reporting, the batch is reported
    /// done at no cost first (the fault loses the batch, the softirq goes on) and the exception goes to the supervisor.
    /// </summary>
    public static void Handle(HostRefs refs, ProtocolDeliver batch, IActorRef self, BatchHandler handler)
    {
        bool reported = false;
        try
        {
            handler(batch, ref reported);
        }
        catch
        {
            if (!reported) Done(refs, batch.Cpu, 0, 0, self);
            throw;
        }
    }

    /// <summary>
    /// Tells CPU <paramref name="cpu"/>'s softnet actor that one batch of its softirq work is done, costing
    /// <paramref name="costNs"/>, with <paramref name="spawned"/> batches handed on to other handlers. Call it before
    /// handing them on. A batch from no softnet (a CPU the host does not have) is answered to no one.
    /// </summary>
    public static void Done(HostRefs refs, int cpu, long costNs, int spawned, IActorRef self)
    {
        if ((uint)cpu < (uint)refs.Softnet.Length) refs.Softnet[cpu].Tell(new ProtocolBatchDone(cpu, costNs, spawned), self);
    }
}
