using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Tap;

namespace ActorStack.Tests.Differential;

/// <summary>
/// The tester's end of a link: an <c>AF_PACKET</c>/<c>SOCK_RAW</c> socket bound (<c>ETH_P_ALL</c>) to one interface
/// of the tester's namespace (the veth peer of the Linux victim, or the TAP whose file descriptor the simulated host
/// holds). <see cref="Send"/> transmits a raw frame on the interface (<c>packet_snd</c> → <c>dev_queue_xmit</c>: the
/// victim receives it); frames the victim sends are read by one background thread (blocked in <c>poll</c>, I/O, not
/// time) into a channel, except the victim's ARP requests for a tester address, which the thread answers at once
/// with <see cref="DiffFrames.TesterMac"/> (the tester owns every address of the /24 but the victim's) and keeps out of
/// the transcripts. <c>PACKET_IGNORE_OUTGOING</c> keeps the tester's own frames out of the capture.
/// </summary>
public sealed class DiffPacketPort : IDisposable
{
    private const int AF_PACKET = 17, SOCK_RAW = 3, SOL_PACKET = 263, PACKET_IGNORE_OUTGOING = 23;
    private const short POLLIN = 1;

    private readonly int _fd;
    private readonly Thread _reader;
    private readonly Channel<byte[]> _frames = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private volatile bool _stop;
    private readonly Ipv4Address _victimIp;

    private DiffPacketPort(int fd, Ipv4Address victimIp)
    {
        _fd = fd;
        _victimIp = victimIp;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "diff packet port" };
        _reader.Start();
    }

    /// <summary>Opens the socket inside <paramref name="ns"/> on its interface <paramref name="ifname"/>.</summary>
    public static unsafe DiffPacketPort Open(Netns ns, string ifname, Ipv4Address victimIp)
    {
        int fd = ns.Run(() =>
        {
            ushort proto = BinaryPrimitives.ReverseEndianness(EtherType.All);
            int s = Socket(AF_PACKET, SOCK_RAW, proto);
            if (s < 0) throw new IOException($"socket(AF_PACKET): errno {Marshal.GetLastPInvokeError()}");
            uint index = IfNameToIndex(ifname);
            if (index == 0) { Close(s); throw new IOException($"no interface {ifname} in {ns}"); }
            var sll = stackalloc byte[20];
            new Span<byte>(sll, 20).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(sll, 2), AF_PACKET);
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(sll + 2, 2), proto);
            BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(sll + 4, 4), (int)index);
            if (Bind(s, sll, 20) < 0) { int e = Marshal.GetLastPInvokeError(); Close(s); throw new IOException($"bind(AF_PACKET {ifname}): errno {e}"); }
            int one = 1;
            SetSockOpt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, 4); // Linux ≥ 4.20; older kernels: filtered below anyway
            return s;
        });
        return new DiffPacketPort(fd, victimIp);
    }

    /// <summary>Transmits one frame (as built: no padding is added).</summary>
    public unsafe void Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            if (SendRaw(_fd, p, (nuint)frame.Length, 0) < 0)
                throw new IOException($"send on packet socket: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>The next frame the victim sent, or null when none came within <paramref name="timeout"/>.</summary>
    public async Task<byte[]?> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _frames.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The next frame captured, if one is waiting (no wait).</summary>
    public bool TryReceive(out byte[] frame) => _frames.Reader.TryRead(out frame!);

    /// <summary>Discards the frames captured so far (late answers of an earlier case).</summary>
    public void Drain()
    {
        while (_frames.Reader.TryRead(out _)) { }
    }

    private unsafe void ReadLoop()
    {
        var buf = new byte[65536 + 64];
        var pfd = stackalloc PollFd[1];
        while (!_stop)
        {
            pfd[0] = new PollFd { Fd = _fd, Events = POLLIN };
            int r = Poll(pfd, 1, 100); // the timeout only lets Dispose end the thread
            if (r <= 0 || _stop) continue;
            nint n;
            fixed (byte* p = buf) n = Recv(_fd, p, (nuint)buf.Length, 0);
            if (n <= 0) continue;
            var frame = buf.AsSpan(0, (int)n).ToArray();
            if (AnswerArp(frame)) continue;
            _frames.Writer.TryWrite(frame);
        }
    }

    /// <summary>A who-has from the victim for any address but its own: answered with the tester's MAC.</summary>
    private bool AnswerArp(byte[] frame)
    {
        if (!TapFrames.IsArp(frame, out var arp) || !ArpPacket.TryRead(arp, out var a, out _) || !a.IsRequest) return false;
        var (sender, senderIp, target) = (a.SenderMac, a.SenderIp, a.TargetIp);
        if (senderIp != _victimIp || target == _victimIp) return false;
        Send(TapFrames.Arp(ArpPacket.OpReply, sender, DiffFrames.TesterMac, target, sender, senderIp));
        return true;
    }

    public void Dispose()
    {
        if (_stop) return;
        _stop = true;
        _reader.Join();
        Close(_fd);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static unsafe extern int Socket(int domain, int type, int protocol);
    [DllImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static unsafe extern int Bind(int fd, byte* addr, int len);
    [DllImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static unsafe extern int SetSockOpt(int fd, int level, int name, void* value, int len);
    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe extern nint SendRaw(int fd, byte* buf, nuint len, int flags);
    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe extern nint Recv(int fd, byte* buf, nuint len, int flags);
    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe extern int Poll(PollFd* fds, nuint n, int timeoutMs);
    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static unsafe extern int Close(int fd);
    [DllImport("libc", EntryPoint = "if_nametoindex", SetLastError = true)]
    private static unsafe extern uint IfNameToIndex([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
