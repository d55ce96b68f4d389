namespace ActorStack.Tests.Support;

/// <summary>
/// <see cref="NetOnEngineKit"/> whose cables settle at once (the carriers are up when <c>Cable</c> returns): the
/// transmit tests inject and send right after cabling, as <c>Transmit/NetHarness</c> did.
/// </summary>
public abstract class VirtualNetKit(string name, string extraHocon = "") : NetOnEngineKit(name, extraHocon)
{
    protected override bool CablesSettle => true;
}
