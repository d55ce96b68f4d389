using System.Collections.Concurrent;
using Akka.Dispatch;

namespace ActorStack.Tests.TcpStress;

/// <summary>
/// Knows when an actor system on virtual time has nothing left to do: counts the mailbox runs its dispatchers (the
/// default one and the guardians' internal one) have queued or are running (<see cref="QuiescentExecutorConfigurator"/>). A message told to an idle
/// actor schedules its mailbox (count + 1) before the telling run ends (count - 1), so the count reaches 0 only when
/// no actor has a message left: every consequence of the last timer has been processed. <see cref="Hold"/> parks new
/// runs while the test advances the TestScheduler, whose Advance is not safe against actors scheduling timers at
/// the instant it is draining.
/// </summary>
public sealed class Quiescence
{
    private static readonly ConcurrentDictionary<string, Quiescence> Registry = new();

    private readonly object _gate = new();
    private readonly List<IRunnable> _held = new();
    private TaskCompletionSource? _idle;
    private bool _holding;
    private int _busy;

    /// <summary>The instance a dispatcher config's <c>actorstack-quiescence-id</c> names.</summary>
    public static Quiescence For(string id) => Registry.GetOrAdd(id, _ => new Quiescence());

    public static void Forget(string id) => Registry.TryRemove(id, out _);

    /// <summary>Mailbox runs queued, held or running.</summary>
    public int Busy => Volatile.Read(ref _busy);

    /// <summary>Completes when no mailbox run is queued, held or running.</summary>
    public Task WhenIdle()
    {
        lock (_gate)
        {
            if (Busy == 0) return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>From now on mailbox runs are counted but not started until <see cref="Release"/>.</summary>
    public void Hold()
    {
        lock (_gate) _holding = true;
    }

    public void Release()
    {
        IRunnable[] runs;
        lock (_gate)
        {
            _holding = false;
            runs = [.. _held];
            _held.Clear();
        }
        foreach (var r in runs) Queue(r);
    }

    internal void Execute(IRunnable run)
    {
        Interlocked.Increment(ref _busy);
        lock (_gate)
        {
            if (_holding)
            {
                _held.Add(run);
                return;
            }
        }
        Queue(run);
    }

    private void Queue(IRunnable run) => ThreadPool.UnsafeQueueUserWorkItem(static s =>
    {
        try { s.run.Run(); }
        finally { s.self.Done(); }
    }, (self: this, run), preferLocal: false);

    private void Done()
    {
        if (Interlocked.Decrement(ref _busy) != 0) return;
        lock (_gate)
        {
            if (Busy != 0 || _idle is null) return;
            _idle.TrySetResult();
            _idle = null;
        }
    }
}

/// <summary>
/// <c>executor = "ActorStack.Tests.TcpStress.QuiescentExecutorConfigurator, ActorStack.Tests"</c> with
/// <c>actorstack-quiescence-id</c> in the same dispatcher section: mailbox runs on the .NET thread pool, counted by
/// that id's <see cref="Quiescence"/>.
/// </summary>
public sealed class QuiescentExecutorConfigurator(Akka.Configuration.Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    private readonly Quiescence _q = Quiescence.For(config.GetString("actorstack-quiescence-id"));

    public override ExecutorService Produce(string id) => new QuiescentExecutor(id, _q);

    private sealed class QuiescentExecutor(string id, Quiescence q) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => q.Execute(run);

        public override void Shutdown() { }
    }
}
