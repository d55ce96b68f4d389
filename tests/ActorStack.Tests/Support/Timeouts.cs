namespace ActorStack.Tests.Support;

/// <summary>
/// The one timeout policy of the test kits. On the simulation engine a kit waits by running the engine, and its limit
/// is <see cref="Simulated"/> time (a failing test stops there at once, whatever the machine's load). On the wall clock
/// (the real-time kits: TAP and interop with the kernel, the real-clock CLI path, Akka's own scheduler) a kit waits at
/// most <see cref="Wall"/>: only a failing test waits this long, and a loaded 2-core machine is slow.
/// </summary>
public static class Timeouts
{
    /// <summary>Longest wall-clock wait for one expected message, answer or condition.</summary>
    public static readonly TimeSpan Wall = TimeSpan.FromSeconds(15);

    /// <summary>Longest wall-clock wait for a whole real-time run to finish (a scenario on the real clock, a transfer with the kernel).</summary>
    public static readonly TimeSpan WallRun = TimeSpan.FromSeconds(60);

    /// <summary>Longest stretch of simulated time a kit runs the engine while it waits for one expected event.</summary>
    public static readonly TimeSpan Simulated = TimeSpan.FromSeconds(120);
}
