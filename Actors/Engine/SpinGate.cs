using System.Runtime.CompilerServices;

namespace ActorStack.Actors.Engine;

/// <summary>
/// The engine's lock for its short critical sections (a mailbox's envelope queue, the event queue): one
/// compare-exchange to enter, one release store to leave, kept in a field of its owner (no object of its own, so no
/// cache line of its own). One thread runs the engine's events, so it is nearly always uncontended; a Tell from
/// outside (a test, the CLI) while the engine runs is the exception, and waits with <see cref="SpinWait"/>.
/// <para>
/// Not reentrant, and cheaper than <see cref="System.Threading.Lock"/> for that: <c>Lock</c> reads the current thread's
/// id (a thread-local read, <c>__tls_get_addr</c> on Linux) on enter and exit and uses two atomic operations. On the
/// engine that was a quarter of the two-host ping's CPU samples (seven lock pairs per event).
/// </para>
/// </summary>
/// <remarks>Use it as <c>using (SpinGate.Hold(ref _gate)) { … }</c>; never copy a held gate.</remarks>
internal struct SpinGate
{
    private int _held;

    /// <summary>Enters <paramref name="gate"/>; the scope's <c>Dispose</c> leaves it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Scope Hold(ref SpinGate gate)
    {
        if (Interlocked.CompareExchange(ref gate._held, 1, 0) != 0) gate.EnterContended();
        return new Scope(ref gate);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended()
    {
        var spin = new SpinWait();
        do spin.SpinOnce();
        while (Volatile.Read(ref _held) != 0 || Interlocked.CompareExchange(ref _held, 1, 0) != 0);
    }

    /// <summary>A held gate; <see cref="Dispose"/> releases it (a release store: what was written inside is visible first).</summary>
    public readonly ref struct Scope(ref SpinGate gate)
    {
        private readonly ref SpinGate _gate = ref gate;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose() => Volatile.Write(ref _gate._held, 0);
    }
}
