using Akka.Actor;

namespace ActorStack.Actors;

/// <summary>
/// Akka's equality of actor references (same path, same uid) with a cheap hash: the uid. Akka.NET's own
/// <c>GetHashCode</c> hashes the whole path (every element and the address) on every call, which the per-packet
/// dictionaries keyed by a socket or a sender (<c>sock_wfree</c>'s batching, the UDP and TCP delivery batches) paid
/// for every buffer. Equal references have equal uids, so this is consistent with <see cref="IActorRef.Equals(IActorRef)"/>;
/// a <see cref="Dictionary{TKey,TValue}"/>'s enumeration order does not depend on the hash, so nothing else changes.
/// </summary>
public sealed class ActorRefComparer : IEqualityComparer<IActorRef>
{
    public static readonly ActorRefComparer Instance = new();

    private ActorRefComparer() { }

    public bool Equals(IActorRef? x, IActorRef? y) => ReferenceEquals(x, y) || (x is not null && x.Equals(y));

    public int GetHashCode(IActorRef obj) => obj.Path.Uid.GetHashCode();
}
