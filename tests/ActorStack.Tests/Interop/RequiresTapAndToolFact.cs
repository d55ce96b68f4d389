using ActorStack.Hardware.Tap;
using ActorStack.Tests.Support;
using ActorStack.Tests.Tap;

namespace ActorStack.Tests.Interop;

/// <summary>
/// A <see cref="FactAttribute"/> for TAP interop tests that also run a program inside the test's namespace:
/// skipped, with the reason, where a namespace or TAP cannot be made (as <see cref="RequiresTapFactAttribute"/>)
/// or <paramref name="tool"/> is not on PATH (<c>.ci/run</c> installs it when run as root).
/// </summary>
public sealed class RequiresTapAndToolFactAttribute : FactAttribute
{
    public RequiresTapAndToolFactAttribute(string tool)
    {
        if (!Netns.CanCreate(out var why) || !TapDevice.Probe(out why))
            Skip = $"TAP interop test skipped: {why}";
        else if (RequiresToolFactAttribute.FindOnPath(tool) is null)
            Skip = $"TAP interop test skipped: {tool} is not installed (run .ci/run as root, which installs it)";
    }
}
