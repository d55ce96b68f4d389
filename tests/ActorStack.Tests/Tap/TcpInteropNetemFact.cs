using ActorStack.Hardware.Tap;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Tap;

/// <summary>
/// A <see cref="FactAttribute"/> for TAP tests that put a Linux-side <c>tc qdisc … netem</c> on the TAP:
/// skipped where TAP is unavailable (as <see cref="RequiresTapFactAttribute"/>), where <c>tc</c> is not
/// installed, or where the kernel has no <c>sch_netem</c>. The last is probed once per process: a throw-away
/// namespace with a TAP in it and <c>tc qdisc add dev TAP root netem loss 2% delay 10ms</c> (tc says
/// "Specified qdisc kind is unknown" when the qdisc is not built in and cannot be loaded).
/// </summary>
public sealed class RequiresTapNetemFactAttribute : FactAttribute
{
    public const string NoNetem = "kernel has no sch_netem (tc: Specified qdisc kind is unknown)";

    private static readonly Lazy<string?> s_netemMissing = new(ProbeNetem);

    public RequiresTapNetemFactAttribute()
    {
        if (!Netns.CanCreate(out var why) || !TapDevice.Probe(out why))
            Skip = $"TAP interop test skipped: {why}";
        else if (RequiresToolFactAttribute.FindOnPath("tc") is null)
            Skip = "TAP interop test skipped: tc (iproute2) is not installed";
        else if (s_netemMissing.Value is { } reason)
            Skip = $"TAP interop test skipped: {reason}";
    }

    /// <summary>Null when netem can be added on a TAP, else why not.</summary>
    private static string? ProbeNetem()
    {
        try
        {
            using var ns = Netns.Create();
            using var tap = TapDevice.Open("asprobe0", ns.Path);
            var (code, err) = TcpInteropTc.Run(ns, "qdisc", "add", "dev", "asprobe0", "root", "netem", "loss", "2%", "delay", "10ms");
            if (code == 0) return null;
            return err.Contains("Specified qdisc kind is unknown", StringComparison.Ordinal)
                ? NoNetem
                : $"tc qdisc add … netem failed ({code}): {err.Trim()}";
        }
        catch (Exception e)
        {
            return $"netem probe failed: {e.Message}";
        }
    }
}

/// <summary><c>ip netns exec NS tc …</c> for the TCP interop tests.</summary>
public static class TcpInteropTc
{
    /// <summary>Runs <c>tc args…</c> inside <paramref name="ns"/>; returns its exit code and standard error.</summary>
    public static (int Code, string Error) Run(Netns ns, params string[] args)
    {
        var (code, _, err) = Netns.Exec("ip", ["netns", "exec", ns.Name, "tc", .. args]);
        return (code, err);
    }
}
