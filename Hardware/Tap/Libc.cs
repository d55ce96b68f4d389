using System.Runtime.InteropServices;

namespace ActorStack.Hardware.Tap;

/// <summary>
/// The few libc calls a TAP device and a network-namespace switch need (Linux, x86-64 and arm64:
/// both use the asm-generic flag values below). Every call returns -1 and sets errno on failure;
/// read errno with <see cref="Marshal.GetLastPInvokeError"/>.
/// </summary>
internal static unsafe class Libc
{
    public const int O_RDWR = 0x2;
    public const int O_RDONLY = 0x0;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = O_NONBLOCK;
    public const int EFD_CLOEXEC = O_CLOEXEC;

    /// <summary><c>_IOW('T', 202, int)</c> from <c>linux/if_tun.h</c>.</summary>
    public const ulong TUNSETIFF = 0x400454CA;
    /// <summary><c>SIOCGIFHWADDR</c>: the TUN driver answers it on its file descriptor (<c>__tun_chr_ioctl</c>).</summary>
    public const ulong SIOCGIFHWADDR = 0x8927;
    public const short IFF_TAP = 0x0002;
    public const short IFF_NO_PI = 0x1000;
    /// <summary><c>IFNAMSIZ</c>: interface names are at most 15 bytes plus the terminating NUL.</summary>
    public const int IFNAMSIZ = 16;
    /// <summary><c>sizeof(struct ifreq)</c> on 64-bit Linux.</summary>
    public const int IfreqSize = 40;

    public const int CLONE_NEWNET = 0x40000000;

    public const short POLLIN = 0x1;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int ENODEV = 19;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static extern int Ioctl(int fd, ulong request, void* arg);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    public static extern nint Read(int fd, void* buf, nuint count);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    public static extern nint Write(int fd, void* buf, nuint count);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static extern int Poll(PollFd* fds, nuint nfds, int timeoutMs);

    [DllImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static extern int EventFd(uint initval, int flags);

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static extern int SetNs(int fd, int nstype);

    [DllImport("libc", EntryPoint = "strerror")]
    private static extern nint StrError(int errnum);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => $"{Marshal.PtrToStringUTF8(StrError(errno)) ?? "unknown error"} (errno {errno})";
}
