using Akka.Actor;

namespace ActorStack.Actors.Namespaces;

/// <summary>
/// Props for the actors every host creates (a dozen per host: 100,000 hosts make 1.2 million), built from a plain
/// constructor delegate. <c>Props.Create(() =&gt; new T(a, b))</c> builds an expression tree at every call, evaluates
/// its arguments by reflection and creates the actor by a reflective constructor look-up; this producer calls the
/// constructor directly. Local only: such Props cannot be serialised for remote deployment (hosts are created on the
/// node that runs them).
/// </summary>
internal static class FactoryProps
{
    public static Props Of<T>(Func<T> create) where T : ActorBase => Props.CreateBy(new Producer<T>(create));

    private sealed class Producer<T>(Func<T> create) : IIndirectActorProducer where T : ActorBase
    {
        public Type ActorType => typeof(T);
        public ActorBase Produce() => create();
        public void Release(ActorBase actor) { }
    }
}
