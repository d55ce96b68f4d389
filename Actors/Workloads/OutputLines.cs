using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Messages;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// What an application workload prints: each line is published on the event stream as a
/// <see cref="WorkloadOutput"/>, told to the optional subscriber, and kept for the status report. The kept lines
/// are bounded (<see cref="MaxLines"/>): past the bound the oldest go, counted in <see cref="Dropped"/>, so the
/// summary a tool prints last is always kept.
/// </summary>
public sealed class OutputLines
{
    public const int MaxLines = 10_000;
    private readonly Queue<string> _lines = new();
    private readonly EventStream _stream;
    private readonly IActorRef? _subscriber;
    private readonly string _host, _workload;

    public OutputLines(EventStream stream, IActorRef? subscriber, string host, string workload)
    {
        _stream = stream;
        _subscriber = subscriber;
        _host = host;
        _workload = workload;
    }

    public long Dropped { get; private set; }

    public void Print(string line, IActorRef self)
    {
        if (_lines.Count >= MaxLines) { _lines.Dequeue(); Dropped++; }
        _lines.Enqueue(line);
        var m = new WorkloadOutput(_host, _workload, line);
        _stream.Publish(m);
        _subscriber?.Tell(m, self);
    }

    public void PrintAll(IEnumerable<string> lines, IActorRef self)
    {
        foreach (var l in lines) Print(l, self);
    }

    public ImmutableArray<string> Snapshot() => _lines.ToImmutableArray();

    /// <summary>Tells the subscriber the final report (after the last line).</summary>
    public void Completed(object status, IActorRef self) => _subscriber?.Tell(status, self);
}
