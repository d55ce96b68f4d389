using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace ActorStack.Actors.Engine;

/// <summary>
/// Akka scheduler on the <see cref="SimEngine"/>'s virtual clock
/// (<c>akka.scheduler.implementation = "ActorStack.Actors.Engine.VirtualTimeScheduler, ActorStack.Actors"</c>).
/// A timer is an engine event at (now + delay); a repeating one re-arms as a new event at (fire time + interval);
/// cancelling its <see cref="ICancelable"/> removes it. <c>Now</c> is <c>actorstack.run.epoch</c> (default
/// 2026-01-01T00:00:00Z) + virtual time, and both monotonic clocks are virtual time. Creates the system's engine.
/// </summary>
public sealed class VirtualTimeScheduler : SchedulerBase, IDateTimeOffsetNowTimeProvider
{
    public VirtualTimeScheduler(Akka.Configuration.Config config, ILoggingAdapter log) : base(config, log)
    {
        var epoch = SimEngine.DefaultEpoch;
        var text = config.GetString("actorstack.run.epoch", null);
        if (!string.IsNullOrWhiteSpace(text))
        {
            if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out epoch))
                throw new ConfigurationException($"actorstack.run.epoch: \"{text}\" is not a date-time (e.g. 2026-01-01T00:00:00Z)");
        }
        Engine = new SimEngine(epoch.ToUniversalTime(), log);
        // actorstack.run.schedule / schedule-seed / pct-depth (stack.hocon): the run's scheduling strategy; fifo (the
        // default) is no strategy at all. A run's choices are not recorded (ScheduleExplorer records its own).
        var schedule = config.GetString("actorstack.run.schedule", "fifo") ?? "fifo";
        int seed = config.GetInt("actorstack.run.schedule-seed", 0);
        int depth = config.GetInt("actorstack.run.pct-depth", 3);
        try
        {
            Engine.UseStrategy(ScheduleStrategy.Create(schedule.Trim(), seed, depth));
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException(e.Message);
        }
    }

    public SimEngine Engine { get; }

    protected override DateTimeOffset TimeNow => Engine.UtcNow;
    public override TimeSpan MonotonicClock => Engine.Now;
    public override TimeSpan HighResMonotonicClock => Engine.Now;

    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable)
        => Arm(new Timer(Engine, receiver, message, sender, null, null, 0, cancelable), delay);

    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable)
        => Arm(new Timer(Engine, receiver, message, sender, null, null, SimEngine.ToNs(interval), cancelable), initialDelay);

    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable)
        => Arm(new Timer(Engine, null, null, null, action, null, 0, cancelable), delay);

    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable)
        => Arm(new Timer(Engine, null, null, null, null, action, 0, cancelable), delay);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable)
        => Arm(new Timer(Engine, null, null, null, action, null, SimEngine.ToNs(interval), cancelable), initialDelay);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable)
        => Arm(new Timer(Engine, null, null, null, null, action, SimEngine.ToNs(interval), cancelable), initialDelay);

    /// <summary>
    /// A Tell <paramref name="delayNs"/> ns of virtual time from now, exactly (the <see cref="TimeSpan"/> API has 100 ns
    /// ticks): for models whose times are not multiples of 100 ns, e.g. a frame's wire time at its line rate. Cancelling
    /// <paramref name="cancelable"/> removes it, as for every other timer.
    /// </summary>
    public void ScheduleTellOnceNs(long delayNs, ICanTell receiver, object message, IActorRef sender, ICancelable? cancelable = null)
    {
        if (cancelable is null) Engine.TellAfterNs(delayNs, receiver, message, sender); // nothing to cancel: the engine's plain tell
        else ArmNs(new Timer(Engine, receiver, message, sender, null, null, 0, cancelable), delayNs);
    }

    private void Arm(Timer t, TimeSpan delay) => ArmNs(t, SimEngine.ToNs(delay));

    private void ArmNs(Timer t, long delayNs)
    {
        if (t.Cancelable is { } c)
        {
            if (c.IsCancellationRequested) return;
            // The timer as the callback's state (no closure, no boxed tuple): one allocation less per armed timer.
            t.Registration = c.Token.Register(static s => { var tm = (Timer)s!; tm.Engine.Cancelled(tm); }, t);
        }
        Engine.Enqueue(t, delayNs);
    }

    private sealed class Timer(SimEngine owner, ICanTell? receiver, object? message, IActorRef? sender, Action? action, IRunnable? runnable, long intervalNs, ICancelable? cancelable)
        : SimEngine.SimEvent
    {
        public SimEngine Engine => owner;
        public ICancelable? Cancelable => cancelable;
        public CancellationTokenRegistration Registration;

        public override (SimEventKind, string, string) Describe() => receiver is not null
            ? (SimEventKind.TimerTell, SimEngine.PathOf(receiver), message is null ? "-" : SimEngine.TypeName(message))
            : (SimEventKind.TimerAction, action is not null ? $"{action.Method.DeclaringType?.FullName}.{action.Method.Name}" : SimEngine.PathOf(runnable), "-");

        public override (SimEventKind, ulong, ulong) DescribeHash(SimEngine engine) => receiver is not null
            ? (SimEventKind.TimerTell, engine.TargetHash(receiver), message is null ? engine.HashOf("-") : engine.TypeHash(message.GetType()))
            : base.DescribeHash(engine);

        public override (ICanTell Receiver, IActorRef? Sender)? TellPair => receiver is null ? null : (receiver, sender);

        public override void Run(SimEngine engine, long firedAt)
        {
            if (cancelable is { IsCancellationRequested: true }) return;
            if (intervalNs > 0) engine.Requeue(this, firedAt, intervalNs);
            else Registration.Dispose();
            if (receiver is not null) receiver.Tell(message, sender ?? ActorRefs.NoSender);
            else if (action is not null) action();
            else runnable!.Run();
        }
    }
}
