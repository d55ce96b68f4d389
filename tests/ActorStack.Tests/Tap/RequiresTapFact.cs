using ActorStack.Hardware.Tap;

namespace ActorStack.Tests.Tap;

/// <summary>
/// A <see cref="FactAttribute"/> for tests that make a network namespace and a TAP device in it:
/// skipped, with the reason, where the process is not root, <c>ip</c> is missing or
/// <see cref="TapDevice.Probe"/> fails (no <c>/dev/net/tun</c>, no <c>CAP_NET_ADMIN</c>).
/// </summary>
public sealed class RequiresTapFactAttribute : FactAttribute
{
    public RequiresTapFactAttribute()
    {
        if (!Netns.CanCreate(out var why) || !TapDevice.Probe(out why))
            Skip = $"TAP interop test skipped: {why}";
    }
}
