using System.Runtime.ExceptionServices;

namespace ActorStack.Hardware.Tap;

/// <summary>
/// Runs code inside another Linux network namespace. <c>setns(fd, CLONE_NEWNET)</c> moves only the
/// calling thread, so the code runs on a fresh thread that switches first and ends afterwards; the
/// caller's threads never change namespace. Anything that binds to a namespace when it is created
/// (a socket, a TAP device opened with <c>TUNSETIFF</c>) stays in that namespace for its whole life
/// and may then be used from any thread.
/// </summary>
public static class LinuxNetns
{
    /// <summary>Where <c>ip netns add NAME</c> mounts a namespace.</summary>
    public static string PathOf(string name) => name.Contains('/') ? name : $"/var/run/netns/{name}";

    /// <summary>
    /// Runs <paramref name="body"/> on a new thread that has entered the namespace at
    /// <paramref name="netnsPath"/> (a path like <c>/var/run/netns/x</c> or <c>/proc/PID/ns/net</c>,
    /// or an <c>ip netns</c> name) and returns its result; exceptions from <paramref name="body"/>
    /// are rethrown here. Throws <see cref="IOException"/> with the errno when the switch fails.
    /// </summary>
    public static T Run<T>(string netnsPath, Func<T> body)
    {
        var path = PathOf(netnsPath);
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(path);
                result = body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = $"netns {path}" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    public static void Run(string netnsPath, Action body) => Run<object?>(netnsPath, () => { body(); return null; });

    private static void Enter(string path)
    {
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0) throw new IOException($"cannot open network namespace {path}: {Libc.Describe(Libc.Errno)}");
        try
        {
            if (Libc.SetNs(fd, Libc.CLONE_NEWNET) < 0)
                throw new IOException($"setns({path}, CLONE_NEWNET) failed: {Libc.Describe(Libc.Errno)}");
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
