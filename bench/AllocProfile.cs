using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace ActorStack.Bench;

/// <summary>
/// A sampling allocation profile from inside the process: the runtime's <c>GCAllocationTick</c> event fires about
/// every 100 KB allocated and names the type of the object that crossed the mark, so the counts per type are
/// proportional to the bytes allocated per type. Enabled with <c>--alloc-profile</c>.
/// </summary>
public sealed class AllocProfile : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _on;

    public void Start() => _on = true;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick is verbose
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick") || e.Payload is null) return;
        int ti = e.PayloadNames!.IndexOf("TypeName");
        int ai = e.PayloadNames.IndexOf("AllocationAmount64");
        if (ti < 0) return;
        var type = e.Payload[ti] as string ?? "?";
        long amount = ai >= 0 && e.Payload[ai] is ulong a ? (long)a : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    /// <summary>The types with the most sampled bytes, with their share.</summary>
    public void Print(int top = 25)
    {
        long total = _bytes.Values.Sum();
        Console.WriteLine($"allocation profile ({total / 1e6:F0} MB sampled):");
        foreach (var (type, b) in _bytes.OrderByDescending(kv => kv.Value).Take(top))
            Console.WriteLine($"  {100.0 * b / Math.Max(1, total),5:F1}%  {type}");
    }
}
