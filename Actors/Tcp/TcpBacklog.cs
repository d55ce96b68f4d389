using ActorStack.Config;
namespace ActorStack.Actors.Tcp;

/// <summary>
/// The socket backlog of <c>tcp_add_backlog</c>, per socket: bytes handed to a socket actor (<see cref="TcpDeliver"/>)
/// that it has not yet reported processed. A segment that would take a socket past its limit is dropped
/// (TcpExt TCPBacklogDrop, SKB_DROP_REASON_SOCKET_BACKLOG). The limit is Linux's:
/// <c>sk_rcvbuf * 2 + sk_sndbuf / 2 + 64 KiB</c> (kernels before 5.x used <c>sk_rcvbuf + sk_sndbuf</c>).
/// One entry per live socket (the owner removes it when the socket stops).
/// </summary>
public sealed class TcpBacklog<TSocket> where TSocket : notnull
{
    private readonly Dictionary<TSocket, long> _bytes = new();

    /// <summary><c>tcp_add_backlog</c>'s limit for a socket with these buffer sizes.</summary>
    public static long Limit(int rcvBuf, int sndBuf) => 2L * rcvBuf + sndBuf / 2 + 64 * 1024;

    /// <summary>Charges <paramref name="bytes"/> to <paramref name="socket"/>; false (nothing charged) when that passes <paramref name="limit"/>.</summary>
    public bool TryCharge(TSocket socket, int bytes, long limit, out bool isNew)
    {
        isNew = !_bytes.TryGetValue(socket, out long held);
        if (held + bytes > limit) return false;
        _bytes[socket] = held + bytes;
        return true;
    }

    /// <summary>The socket processed a batch of <paramref name="bytes"/> (never below zero).</summary>
    public void Processed(TSocket socket, int bytes)
    {
        if (_bytes.TryGetValue(socket, out long held)) _bytes[socket] = Math.Max(0, held - bytes);
    }

    public void Remove(TSocket socket) => _bytes.Remove(socket);

    public long Held(TSocket socket) => _bytes.TryGetValue(socket, out long h) ? h : 0;

    public int Count => _bytes.Count;
}
