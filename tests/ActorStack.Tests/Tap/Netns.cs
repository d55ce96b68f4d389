using System.Diagnostics;
using ActorStack.Hardware.Tap;

namespace ActorStack.Tests.Tap;

/// <summary>
/// A Linux network namespace a test made (<c>ip netns add astest-PID-N</c>) and removes again in
/// <see cref="Dispose"/>. Run <c>ip</c> inside it with <see cref="Ip"/>, run code inside it with
/// <see cref="Run{T}"/> (see <see cref="NetnsSocket"/> for sockets). Per house rule 9, devices and
/// addresses a test creates belong inside such a namespace. IPv6 is off in it by default so the
/// kernel sends no unsolicited frames (DAD, MLD, router solicitations) onto its links.
/// </summary>
public sealed class Netns : IDisposable
{
    private static int s_counter;
    private bool _disposed;

    private Netns(string name)
    {
        Name = name;
        Path = LinuxNetns.PathOf(name);
    }

    public string Name { get; }

    /// <summary><c>/var/run/netns/NAME</c>: what <see cref="LinuxNetns"/> and the TAP link take.</summary>
    public string Path { get; }

    /// <summary>Whether this process can run namespace tests: Linux, root, <c>ip</c> on PATH.</summary>
    public static bool CanCreate(out string why)
    {
        if (!OperatingSystem.IsLinux()) { why = "network namespaces need Linux"; return false; }
        if (!Environment.IsPrivilegedProcess) { why = "creating network namespaces needs root"; return false; }
        if (Support.RequiresToolFactAttribute.FindOnPath("ip") is null) { why = "ip (iproute2) is not installed"; return false; }
        why = "";
        return true;
    }

    /// <summary>
    /// Creates a namespace with a name unique on this machine (<c>astest-PID-N</c>, the next N
    /// if taken; <paramref name="prefix"/> replaces <c>astest</c> for a suite that wants its own names)
    /// with its loopback up and, unless <paramref name="ipv6"/>, IPv6 disabled.
    /// </summary>
    public static Netns Create(bool ipv6 = false, string prefix = "astest")
    {
        for (int attempt = 0; ; attempt++)
        {
            var name = $"{prefix}-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}";
            var (code, _, err) = Exec("ip", "netns", "add", name);
            if (code == 0)
            {
                var ns = new Netns(name);
                try
                {
                    ns.Ip("link", "set", "lo", "up");
                    if (!ipv6) ns.DisableIpv6();
                    return ns;
                }
                catch
                {
                    ns.Dispose();
                    throw;
                }
            }
            if (!err.Contains("exists", StringComparison.OrdinalIgnoreCase) || attempt >= 100)
                throw new InvalidOperationException($"ip netns add {name} failed ({code}): {err.Trim()}");
        }
    }

    /// <summary>Runs <c>ip -n NAME args…</c>; returns its output, throws with its error text when it fails.</summary>
    public string Ip(params string[] args)
    {
        var (code, output, err) = Exec("ip", ["-n", Name, .. args]);
        if (code != 0)
            throw new InvalidOperationException($"ip -n {Name} {string.Join(' ', args)} failed ({code}): {err.Trim()}");
        return output;
    }

    /// <summary>Moves the link <paramref name="ifname"/> from this process's namespace into this one.</summary>
    public void MoveLinkIn(string ifname)
    {
        var (code, _, err) = Exec("ip", "link", "set", ifname, "netns", Name);
        if (code != 0) throw new InvalidOperationException($"ip link set {ifname} netns {Name} failed ({code}): {err.Trim()}");
    }

    /// <summary>Runs <paramref name="body"/> on a thread inside this namespace (sockets it creates live here).</summary>
    public T Run<T>(Func<T> body) => LinuxNetns.Run(Path, body);

    public void Run(Action body) => LinuxNetns.Run(Path, body);

    /// <summary>Writes a <c>net.*</c> sysctl of this namespace (<paramref name="key"/> like <c>net.ipv4.ip_forward</c>).</summary>
    public void Sysctl(string key, string value)
    {
        var file = "/proc/sys/" + key.Replace('.', '/');
        Run(() => File.WriteAllText(file, value));
    }

    private void DisableIpv6()
    {
        if (!Directory.Exists("/proc/sys/net/ipv6")) return;
        Sysctl("net.ipv6.conf.all.disable_ipv6", "1");
        Sysctl("net.ipv6.conf.default.disable_ipv6", "1");
    }

    /// <summary>Deletes the namespace (<c>ip netns del</c>); devices still in it go with it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Exec("ip", "netns", "del", Name);
    }

    public override string ToString() => $"netns {Name}";

    /// <summary>Runs a program to completion; returns exit code, standard output and standard error.</summary>
    public static (int Code, string Output, string Error) Exec(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, stderr.Result);
    }
}
