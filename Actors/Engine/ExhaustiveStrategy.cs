namespace ActorStack.Actors.Engine;

/// <summary>
/// The bounded exhaustive mode's strategy (<see cref="ScheduleExplorer.Exhaust"/>): a stateless depth-first search over
/// choice sequences. Each run replays the current prefix of decisions (the DFS stack), then takes the first option at
/// every new decision and pushes it, up to <c>depth</c> decisions; <see cref="Backtrack"/> moves the deepest decision
/// with an untried option to it and drops what lay below. The body is re-run from scratch per schedule.
/// <para>
/// <b>Partial-order reduction (sleep sets, Godefroid 1996).</b> With throughput 1 an engine-level event is one actor
/// handling one message (or a timer firing one Tell). Its effects are: its own actor's state and mailbox (the dequeue),
/// and appends to other actors' mailboxes. Two events e, f are <i>independent</i> (<see cref="Footprint.Independent"/>)
/// when they run on different actors, neither puts anything into the other's mailbox, and they do not send as the same
/// sender to the same receiver. Independent events commute: running e then f or f then e reaches the same state —
/// their actors' states are disjoint, and where both append to a third actor's mailbox the two appends come from
/// different senders, and that actor's mailbox-level decision offers either sender's oldest message first whatever
/// order they arrived in, so the same continuations exist. Sleep sets prune exactly the orders that only swap
/// independent events: after exploring e at a state, a sibling f's subtree starts with e asleep if e and f are
/// independent; e stays asleep until an event dependent on it runs, and a run in which every enabled event is asleep is
/// stopped (it repeats, up to commuting, a schedule already run; counted as pruned, not as a schedule). Mailbox-level
/// decisions are all explored (they are the order one actor sees its senders in, the thing a race is about). Timers
/// due at one instant are events like mailbox runs (permuted, subject to the same reduction).
/// </para>
/// <para>
/// What the argument assumes, as the stack's house rules do: actors share no mutable state besides messages (the
/// RCU-style snapshots and counters of the stack are outside it: an exhaustive verdict on them is over message orders
/// only); a scheduled action or task (not a Tell) counts as dependent on everything; the sleep set is emptied whenever
/// the body starts a Run* (its own Tells from outside are not events of the search).
/// </para>
/// </summary>
internal sealed class ExhaustiveStrategy(int depth, bool reduce = true) : ScheduleStrategy
{
    private sealed class Node(ScheduleChoiceKind kind, int options)
    {
        public readonly ScheduleChoiceKind Kind = kind;
        public readonly int Options = options;
        public int Chosen;
        public string[] Ids = [];                                   // engine level: the options' event ids
        public Dictionary<string, Footprint> SleepAtEntry = [];     // engine level: asleep when the node was reached
        public readonly Dictionary<string, Footprint> Done = [];    // engine level: footprints of the options run from here
    }

    private readonly List<Node> _stack = [];
    private int _pos;
    private Dictionary<string, Footprint> _sleep = [];
    private Node? _running;      // the engine-level node whose chosen event is running, if it is a node
    private string? _runningId;

    public override string Name => "exhaustive";
    internal override bool EveryStep => true;
    internal override bool WantsFootprints => true;

    /// <summary>A decision of two or more options lay beyond the depth bound in some run: the space was not exhausted.</summary>
    public bool Truncated { get; private set; }

    public override void StartIteration(int iteration)
    {
        _pos = 0;
        _sleep = [];
        _running = null;
        _runningId = null;
    }

    internal override void RunStarted() => _sleep = [];

    protected internal override int Choose(ScheduleChoiceKind kind, IReadOnlyList<ScheduleOption> options, long nowNs, SimEngine engine)
    {
        if (kind == ScheduleChoiceKind.Mailbox) return ChooseMailbox(options, nowNs, engine);
        int chosen = -1, awake = 0;
        for (int i = 0; i < options.Count; i++)
        {
            if (_sleep.ContainsKey(options[i].Id)) continue;
            awake++;
            if (chosen < 0) chosen = i;
        }
        Node? node = null;
        if (options.Count >= 2)
        {
            if (_pos < _stack.Count)
            {
                node = Expect(ScheduleChoiceKind.Engine, options.Count, nowNs, engine);
                if (node is null) return 0;
                chosen = node.Chosen;
            }
            else if (_stack.Count < depth && awake > 0)
            {
                node = new Node(ScheduleChoiceKind.Engine, options.Count) { Chosen = chosen };
                _stack.Add(node);
                _pos++;
            }
            else if (awake >= 2) Truncated = true;
            if (node is not null)
            {
                node.Ids = options.Select(o => o.Id).ToArray();
                node.SleepAtEntry = new Dictionary<string, Footprint>(_sleep);
            }
        }
        if (chosen < 0) return -1; // every enabled event asleep: a redundant interleaving
        _running = node;
        _runningId = options[chosen].Id;
        return chosen;
    }

    private int ChooseMailbox(IReadOnlyList<ScheduleOption> options, long nowNs, SimEngine engine)
    {
        if (_pos < _stack.Count) return Expect(ScheduleChoiceKind.Mailbox, options.Count, nowNs, engine)?.Chosen ?? 0;
        if (_stack.Count < depth)
        {
            _stack.Add(new Node(ScheduleChoiceKind.Mailbox, options.Count));
            _pos++;
        }
        else Truncated = true;
        return 0;
    }

    /// <summary>The prefix node at this point of the run; a different decision means the body is not deterministic.</summary>
    private Node? Expect(ScheduleChoiceKind kind, int options, long nowNs, SimEngine engine)
    {
        var node = _stack[_pos];
        if (node.Kind != kind || node.Options != options)
        {
            engine.Halt(new ScheduleReplayException(
                $"decision {_pos} of the prefix was {(char)node.Kind} with {node.Options} options, this run has {(char)kind} with {options} at {nowNs} ns: the body is not deterministic"));
            return null;
        }
        _pos++;
        return node;
    }

    internal override void Executed(Footprint footprint)
    {
        var node = _running;
        var id = _runningId;
        _running = null;
        _runningId = null;
        if (node is not null && id is not null)
        {
            if (node.Done.TryGetValue(id, out var seen)) seen.UnionWith(footprint);
            else
            {
                var copy = new Footprint(footprint.Owner);
                copy.UnionWith(footprint);
                node.Done[id] = copy;
            }
            if (!reduce) return; // no partial-order reduction: nothing ever sleeps
            // The child's sleep set: what was asleep here, and the siblings already explored, that commute with this event.
            var next = new Dictionary<string, Footprint>();
            foreach (var (k, v) in node.SleepAtEntry)
                if (v.Independent(footprint)) next[k] = v;
            foreach (var (k, v) in node.Done)
                if (k != id && v.Independent(footprint)) next[k] = v;
            _sleep = next;
        }
        else
        {
            // Not a branching point: the event wakes whatever it does not commute with.
            List<string>? wake = null;
            foreach (var (k, v) in _sleep)
                if (!v.Independent(footprint)) (wake ??= []).Add(k);
            if (wake is not null) foreach (var k in wake) _sleep.Remove(k);
        }
    }

    /// <summary>Moves to the next schedule: false when the search is over.</summary>
    public bool Backtrack()
    {
        while (_stack.Count > 0)
        {
            var node = _stack[^1];
            if (node.Kind == ScheduleChoiceKind.Mailbox)
            {
                if (node.Chosen + 1 < node.Options)
                {
                    node.Chosen++;
                    return true;
                }
            }
            else
            {
                for (int k = node.Chosen + 1; k < node.Options; k++)
                    if (!node.SleepAtEntry.ContainsKey(node.Ids[k]))
                    {
                        node.Chosen = k;
                        return true;
                    }
            }
            _stack.RemoveAt(_stack.Count - 1);
        }
        return false;
    }
}
