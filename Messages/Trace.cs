namespace ActorStack.Messages;

/// <summary>The receive tracepoints (<c>trace_netif_receive_skb_*</c>, <c>trace_napi_gro_receive_*</c>), published on the actor system's event stream when tracing is on.</summary>
public enum TracePoint { NetifReceiveSkbEntry, NetifReceiveSkbExit, NapiGroReceiveEntry, NapiGroReceiveExit }

/// <summary>
/// One trace event. <paramref name="Result"/> is the exit value (0 = <c>NET_RX_SUCCESS</c>,
/// 1 = <c>NET_RX_DROP</c>; for GRO the <c>gro_result_t</c>), -1 at entry.
/// </summary>
public sealed record TraceEvent(string Host, TracePoint Point, string Device, int Cpu, int Length, uint Hash, int Result, long TstampTicks);
