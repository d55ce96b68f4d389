namespace ActorStack.Actors.LinkWatch;

/// <summary><c>enum netdev_cmd</c> (include/linux/netdevice.h); the values are Linux's.</summary>
public enum NetdevEvent
{
    NETDEV_UP = 1,
    NETDEV_DOWN = 2,
    NETDEV_REBOOT = 3,
    NETDEV_CHANGE = 4,
    NETDEV_REGISTER = 5,
    NETDEV_UNREGISTER = 6,
    NETDEV_CHANGEMTU = 7,
    NETDEV_CHANGEADDR = 8,
    NETDEV_PRE_CHANGEADDR = 9,
    NETDEV_GOING_DOWN = 10,
}

/// <summary>Notifier return values (include/linux/notifier.h). A result with <see cref="NOTIFY_STOP_MASK"/> ends the chain walk.</summary>
[Flags]
public enum NotifyResult
{
    NOTIFY_DONE = 0x0000,
    NOTIFY_OK = 0x0001,
    NOTIFY_STOP_MASK = 0x8000,
    NOTIFY_BAD = NOTIFY_STOP_MASK | 0x0002,
    NOTIFY_STOP = NOTIFY_OK | NOTIFY_STOP_MASK,
}

/// <summary>
/// The callback of a <c>struct notifier_block</c>. It receives the device
/// itself, not an up/down value: as in Linux, the listener reads the current
/// state (<c>netif_carrier_ok</c>, <c>operstate</c>, flags) from the device.
/// Runs synchronously inside the link-watch / <c>dev_open</c> call that
/// raised the event; it must not throw.
/// </summary>
public delegate NotifyResult NetdevNotifierCall(NetdevEvent ev, NetDeviceState dev);

/// <summary><c>struct notifier_block</c>: a subscriber, its callback and priority (higher runs first).</summary>
public sealed class NetdevNotifierBlock(string name, NetdevNotifierCall call, int priority = 0)
{
    public string Name { get; } = name;
    public NetdevNotifierCall Call { get; } = call;
    public int Priority { get; } = priority;
    public override string ToString() => $"{Name}(prio {Priority})";
}

/// <summary>
/// <c>netdev_chain</c>, a raw notifier chain (kernel/notifier.c). Ordered by
/// priority, highest first; among equal priorities, earlier registrations run
/// first (<c>notifier_chain_register</c> inserts before the first block of
/// strictly lower priority). Bounded: at most <see cref="Capacity"/> blocks.
/// </summary>
public sealed class NetdevNotifierChain(int capacity = NetdevNotifierChain.DefaultCapacity)
{
    /// <summary>No Linux limit exists; this bound keeps the table finite.</summary>
    public const int DefaultCapacity = 1024;

    private readonly List<NetdevNotifierBlock> _chain = new();

    public int Capacity { get; } = capacity;
    public int Count => _chain.Count;
    public IReadOnlyList<NetdevNotifierBlock> Blocks => _chain;

    /// <summary>
    /// <c>notifier_chain_register</c>. False if the block is already on the
    /// chain (Linux warns and refuses a double registration) or the chain is full.
    /// </summary>
    public bool Register(NetdevNotifierBlock block)
    {
        if (_chain.Contains(block) || _chain.Count >= Capacity) return false;
        int i = 0;
        // while ((*nl) != NULL) { if (n->priority > (*nl)->priority) break; nl = &((*nl)->next); }
        while (i < _chain.Count && block.Priority <= _chain[i].Priority) i++;
        _chain.Insert(i, block);
        return true;
    }

    /// <summary><c>notifier_chain_unregister</c>: false (Linux: -ENOENT) when the block is not on the chain.</summary>
    public bool Unregister(NetdevNotifierBlock block) => _chain.Remove(block);

    /// <summary>
    /// <c>notifier_call_chain</c>: calls each block in order until one returns a
    /// result with NOTIFY_STOP_MASK; returns the last result (NOTIFY_DONE for an
    /// empty chain). Walks a copy, so a callback may unregister itself or others
    /// (Linux reads <c>next_nb</c> before the call for the same reason).
    /// </summary>
    public NotifyResult CallChain(NetdevEvent ev, NetDeviceState dev)
    {
        var ret = NotifyResult.NOTIFY_DONE;
        foreach (var nb in _chain.ToArray())
        {
            ret = nb.Call(ev, dev);
            if ((ret & NotifyResult.NOTIFY_STOP_MASK) != 0) break;
        }
        return ret;
    }

    /// <summary>Calls a single block, used to replay events to a newly registered or leaving subscriber.</summary>
    internal static NotifyResult CallOne(NetdevNotifierBlock nb, NetdevEvent ev, NetDeviceState dev) => nb.Call(ev, dev);
}
