using System.Net;
using System.Net.Sockets;

namespace ActorStack.Tests.Tap;

/// <summary>
/// Real Linux sockets inside a test's network namespace. A socket belongs to the namespace of the
/// thread that created it, so each is created on a thread that entered the namespace
/// (<see cref="Netns.Run{T}"/>); afterwards it is an ordinary <see cref="Socket"/>, usable from any
/// thread (sync or async). The caller disposes it.
/// </summary>
public static class NetnsSocket
{
    /// <summary>A socket of the given kind created inside <paramref name="ns"/>.</summary>
    public static Socket Open(Netns ns, AddressFamily family, SocketType type, ProtocolType protocol)
        => ns.Run(() => new Socket(family, type, protocol));

    /// <summary>An IPv4 UDP socket inside <paramref name="ns"/>, bound to <paramref name="local"/> (port 0: any free port).</summary>
    public static Socket Udp(Netns ns, IPEndPoint local)
    {
        var s = Open(ns, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.Bind(local);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Receives one datagram, failing the test after <paramref name="timeout"/> (kernel I/O, not simulated time).</summary>
    public static async Task<(byte[] Payload, IPEndPoint From)> ReceiveAsync(Socket s, TimeSpan timeout)
    {
        var buffer = new byte[65536];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var r = await s.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            return (buffer.AsSpan(0, r.ReceivedBytes).ToArray(), (IPEndPoint)r.RemoteEndPoint);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no datagram on {s.LocalEndPoint} within {timeout.TotalSeconds} s");
        }
    }
}
