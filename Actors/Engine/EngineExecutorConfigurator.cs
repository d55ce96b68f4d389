using Akka.Dispatch;

namespace ActorStack.Actors.Engine;

/// <summary>
/// <c>executor = "ActorStack.Actors.Engine.EngineExecutorConfigurator, ActorStack.Actors"</c> in a dispatcher section:
/// every mailbox run the dispatcher is given becomes a <see cref="SimEngine"/> event at the current virtual instant
/// instead of running on a thread. The engine is the one of the system's <see cref="VirtualTimeScheduler"/>
/// (reached through the dispatcher prerequisites, so two systems never share one).
/// </summary>
public sealed class EngineExecutorConfigurator(Akka.Configuration.Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    private readonly SimEngine _engine = (prerequisites.Scheduler as VirtualTimeScheduler)?.Engine
        ?? throw new Akka.Configuration.ConfigurationException(
            "EngineExecutorConfigurator needs akka.scheduler.implementation = \"ActorStack.Actors.Engine.VirtualTimeScheduler, ActorStack.Actors\"");

    public override ExecutorService Produce(string id) => new EngineExecutor(id, _engine);

    private sealed class EngineExecutor(string id, SimEngine engine) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => engine.EnqueueRun(run);

        public override void Shutdown() { }
    }
}
