using System.Text;
using ActorStack.Messages.Packets;

namespace ActorStack.Hardware.Tap;

/// <summary>Opening a TAP device failed; <see cref="Errno"/> is the failing call's errno (0 when no call failed).</summary>
public sealed class TapOpenException(string message, int errno) : IOException(message)
{
    public int Errno { get; } = errno;
}

/// <summary>
/// A Linux TAP device: an Ethernet interface whose "wire" is a file descriptor. Opening
/// <c>/dev/net/tun</c> and <c>TUNSETIFF</c> with <c>IFF_TAP | IFF_NO_PI</c> attaches to the
/// interface of that name in the opening thread's network namespace, creating it when it does not
/// exist (<c>tun_set_iff</c>); a device created this way is removed when the descriptor is closed,
/// a persistent one (<c>ip tuntap add</c>) stays. Each <see cref="Read"/> returns one frame the
/// kernel transmitted on the interface and each <see cref="Write"/> gives the kernel one frame as
/// if received on it (<c>tun_get_user</c> → <c>netif_rx</c>), without any packet-information prefix.
/// <para>
/// Errors throw only from <see cref="Open"/>; reads and writes return <c>-errno</c>. Thread-safe:
/// one thread may block in <see cref="Read"/> while others <see cref="Write"/>;
/// <see cref="Dispose"/> from any thread wakes a blocked reader (through an eventfd, since closing
/// a descriptor does not wake a thread blocked on it), waits until no call is using the descriptor,
/// then closes it, so a descriptor number is never used after it could be reused.
/// </para>
/// </summary>
public sealed unsafe class TapDevice : IDisposable
{
    public const string TunPath = "/dev/net/tun";
    /// <summary>Bit of <c>CAP_NET_ADMIN</c> in <c>/proc/self/status</c> CapEff.</summary>
    private const int CapNetAdmin = 12;

    private readonly int _fd;
    private readonly int _wakeFd;
    private int _users;
    private int _closed;

    private TapDevice(int fd, int wakeFd, string name, MacAddress mac)
    {
        _fd = fd;
        _wakeFd = wakeFd;
        Name = name;
        Mac = mac;
    }

    /// <summary>The interface name the kernel gave (a pattern such as <c>astap%d</c> is resolved).</summary>
    public string Name { get; }

    /// <summary>The kernel side's MAC address (the interface's <c>dev_addr</c> when opened).</summary>
    public MacAddress Mac { get; }

    /// <summary>
    /// Whether this process can open TAP devices: Linux, <c>/dev/net/tun</c> present and openable,
    /// and <c>CAP_NET_ADMIN</c> (which <c>TUNSETIFF</c> needs to create a device). Creates nothing.
    /// </summary>
    public static bool Probe(out string why)
    {
        if (!OperatingSystem.IsLinux()) { why = "TAP devices need Linux"; return false; }
        if (!File.Exists(TunPath)) { why = $"{TunPath} is missing (load the tun module, or give the container the device)"; return false; }
        int fd = Libc.Open(TunPath, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0) { why = $"cannot open {TunPath}: {Libc.Describe(Libc.Errno)}"; return false; }
        Libc.Close(fd);
        if (!HasCapNetAdmin()) { why = "CAP_NET_ADMIN is missing (run as root)"; return false; }
        why = "";
        return true;
    }

    /// <summary>
    /// Opens (creating if needed) the TAP interface <paramref name="name"/> (at most 15 bytes; may be
    /// a pattern like <c>astap%d</c>). With <paramref name="netnsPath"/> the device is opened from a
    /// thread inside that network namespace (see <see cref="LinuxNetns"/>), so it is created there and
    /// never appears in the caller's namespace. Throws <see cref="TapOpenException"/> with the errno.
    /// </summary>
    public static TapDevice Open(string name, string? netnsPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= Libc.IFNAMSIZ)
            throw new ArgumentException($"interface name '{name}' is longer than {Libc.IFNAMSIZ - 1} bytes", nameof(name));
        return netnsPath is null ? OpenHere(name) : LinuxNetns.Run(netnsPath, () => OpenHere(name));
    }

    private static TapDevice OpenHere(string name)
    {
        if (!File.Exists(TunPath))
            throw new TapOpenException($"cannot open TAP '{name}': {TunPath} is missing (errno {Libc.ENOENT})", Libc.ENOENT);
        int fd = Libc.Open(TunPath, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            int e = Libc.Errno;
            throw new TapOpenException($"cannot open {TunPath} for TAP '{name}': {Libc.Describe(e)}", e);
        }
        var ifr = stackalloc byte[Libc.IfreqSize];
        new Span<byte>(ifr, Libc.IfreqSize).Clear();
        Encoding.UTF8.GetBytes(name, new Span<byte>(ifr, Libc.IFNAMSIZ - 1));
        *(short*)(ifr + Libc.IFNAMSIZ) = Libc.IFF_TAP | Libc.IFF_NO_PI;
        if (Libc.Ioctl(fd, Libc.TUNSETIFF, ifr) < 0)
        {
            int e = Libc.Errno;
            Libc.Close(fd);
            string hint = e == Libc.EPERM ? " (needs CAP_NET_ADMIN)" : "";
            throw new TapOpenException($"TUNSETIFF IFF_TAP|IFF_NO_PI '{name}' failed: {Libc.Describe(e)}{hint}", e);
        }
        var actual = new ReadOnlySpan<byte>(ifr, Libc.IFNAMSIZ);
        int nul = actual.IndexOf((byte)0);
        string ifname = Encoding.UTF8.GetString(nul < 0 ? actual : actual[..nul]);

        // ifr_hwaddr is a struct sockaddr at the union's offset: 2 bytes of family, then the address.
        new Span<byte>(ifr + Libc.IFNAMSIZ, Libc.IfreqSize - Libc.IFNAMSIZ).Clear();
        var mac = Libc.Ioctl(fd, Libc.SIOCGIFHWADDR, ifr) == 0
            ? MacAddress.Read(new ReadOnlySpan<byte>(ifr + Libc.IFNAMSIZ + 2, 6))
            : MacAddress.Zero;

        int wake = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (wake < 0)
        {
            int e = Libc.Errno;
            Libc.Close(fd);
            throw new TapOpenException($"eventfd for TAP '{ifname}' failed: {Libc.Describe(e)}", e);
        }
        return new TapDevice(fd, wake, ifname, mac);
    }

    /// <summary>
    /// Blocks until the kernel transmits a frame on the interface and copies it into
    /// <paramref name="buffer"/>. Returns the bytes copied, or 0 once the device is disposed, or
    /// <c>-errno</c> on failure (for example <c>-EBADFD</c> when the interface was deleted underneath).
    /// A frame longer than the buffer is cut to it and the rest lost (<c>tun_chr_read_iter</c> returns
    /// <c>min(len, frame)</c>): to tell, read into a buffer one byte longer than the longest frame wanted.
    /// </summary>
    public int Read(Span<byte> buffer)
    {
        if (!Enter()) return 0;
        try
        {
            var fds = stackalloc Libc.PollFd[2];
            while (true)
            {
                int n = ReadOnce(buffer);
                if (n != -Libc.EAGAIN) return n;
                fds[0] = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
                fds[1] = new Libc.PollFd { Fd = _wakeFd, Events = Libc.POLLIN };
                if (Libc.Poll(fds, 2, -1) < 0)
                {
                    int e = Libc.Errno;
                    if (e == Libc.EINTR) continue;
                    return -e;
                }
                if (fds[1].Revents != 0) return 0;
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Like <see cref="Read"/> but never blocks: <c>-EAGAIN</c> when no frame is waiting.
    /// </summary>
    public int TryRead(Span<byte> buffer)
    {
        if (!Enter()) return 0;
        try { return ReadOnce(buffer); }
        finally { Exit(); }
    }

    /// <summary>
    /// Hands one Ethernet frame to the kernel as received on the interface. Returns the bytes
    /// written, or <c>-errno</c> (<c>-EBADF</c> once disposed; <c>-EINVAL</c> for a frame shorter
    /// than an Ethernet header; <c>-EIO</c> while the interface is down on some kernels).
    /// </summary>
    public int Write(ReadOnlySpan<byte> frame)
    {
        if (!Enter()) return -Libc.EBADF;
        try
        {
            while (true)
            {
                nint n;
                fixed (byte* p = frame) n = Libc.Write(_fd, p, (nuint)frame.Length);
                if (n >= 0) return (int)n;
                int e = Libc.Errno;
                if (e != Libc.EINTR) return -e;
            }
        }
        finally
        {
            Exit();
        }
    }

    private int ReadOnce(Span<byte> buffer)
    {
        while (true)
        {
            nint n;
            fixed (byte* p = buffer) n = Libc.Read(_fd, p, (nuint)buffer.Length);
            if (n >= 0) return (int)n;
            int e = Libc.Errno;
            if (e != Libc.EINTR) return -e;
        }
    }

    private bool Enter()
    {
        Interlocked.Increment(ref _users);
        if (Volatile.Read(ref _closed) == 0) return true;
        Interlocked.Decrement(ref _users);
        return false;
    }

    private void Exit() => Interlocked.Decrement(ref _users);

    /// <summary>Wakes a blocked reader, waits for calls in flight to return, closes the descriptor.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        ulong one = 1;
        Libc.Write(_wakeFd, &one, sizeof(ulong));     // stays readable: every poller wakes
        SpinWait.SpinUntil(() => Volatile.Read(ref _users) == 0);
        Libc.Close(_fd);
        Libc.Close(_wakeFd);
    }

    private static bool HasCapNetAdmin()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line[7..].Trim(), 16) >> CapNetAdmin & 1) == 1;
        }
        catch (IOException) { }
        return false;
    }

    public override string ToString() => $"TapDevice({Name}, {Mac})";
}
