namespace ActorStack.Tests.Tap;

/// <summary>
/// Tests that move traffic through the real kernel over TAP devices run one class at a time: the kernel's side of
/// each is real time (ping's replies, Linux TCP), and a 16 MiB Linux TCP transfer on one TAP starving another
/// class's ping of CPU is the load this serialization removes.
/// </summary>
[CollectionDefinition(Name)]
public sealed class KernelTapCollection
{
    public const string Name = "kernel-tap";
}
