using ActorStack.Config;
namespace ActorStack.Actors.Tcp;

/// <summary>
/// A bounded FIFO of bytes (a socket's send or receive queue). Storage grows by
/// doubling up to <see cref="Limit"/>, so an idle connection holds little memory.
/// </summary>
public sealed class ByteRing
{
    private byte[] _buf;
    private int _head;
    public int Count { get; private set; }
    public int Limit { get; set; }
    public int Free => Math.Max(0, Limit - Count);

    public ByteRing(int limit, int initialCapacity = 0)
    {
        Limit = limit;
        _buf = initialCapacity > 0 ? new byte[Math.Min(initialCapacity, limit)] : [];
    }

    /// <summary>Appends as much of <paramref name="data"/> as <see cref="Free"/> allows; returns the bytes taken.</summary>
    public int Append(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        if (n == 0) return 0;
        Ensure(Count + n);
        int tail = (_head + Count) % _buf.Length;
        int first = Math.Min(n, _buf.Length - tail);
        data[..first].CopyTo(_buf.AsSpan(tail));
        data[first..n].CopyTo(_buf);
        Count += n;
        return n;
    }

    /// <summary>Copies bytes from <paramref name="offset"/> (relative to the head) without removing them.</summary>
    public void CopyTo(int offset, Span<byte> dest)
    {
        if (dest.Length == 0) return;
        if (offset < 0 || offset + dest.Length > Count) throw new ArgumentOutOfRangeException(nameof(offset));
        int start = (_head + offset) % _buf.Length;
        int first = Math.Min(dest.Length, _buf.Length - start);
        _buf.AsSpan(start, first).CopyTo(dest);
        _buf.AsSpan(0, dest.Length - first).CopyTo(dest[first..]);
    }

    /// <summary>
    /// The <paramref name="count"/> bytes at <paramref name="offset"/> (relative to the head) as a slice of the storage
    /// itself, when they lie in one piece (not across the wrap). The slice stays valid while those bytes are queued:
    /// only <see cref="Discard"/> of them lets <see cref="Append"/> reuse the space (growing copies to a new array).
    /// </summary>
    public bool TryGetContiguous(int offset, int count, out ReadOnlyMemory<byte> slice)
    {
        slice = ReadOnlyMemory<byte>.Empty;
        if (count <= 0 || offset < 0 || offset + count > Count) return false;
        int start = (_head + offset) % _buf.Length;
        if (start + count > _buf.Length) return false;
        slice = _buf.AsMemory(start, count);
        return true;
    }

    /// <summary>Removes <paramref name="n"/> bytes from the head.</summary>
    public void Discard(int n)
    {
        n = Math.Min(n, Count);
        if (n == 0) return;
        _head = (_head + n) % _buf.Length;
        Count -= n;
        if (Count == 0) _head = 0;
    }

    private void Ensure(int needed)
    {
        if (needed <= _buf.Length) return;
        int cap = Math.Max(4096, _buf.Length);
        while (cap < needed) cap *= 2;
        cap = Math.Min(cap, Math.Max(Limit, needed));
        var nb = new byte[cap];
        if (Count > 0) CopyTo(0, nb.AsSpan(0, Count));
        _buf = nb;
        _head = 0;
    }
}
