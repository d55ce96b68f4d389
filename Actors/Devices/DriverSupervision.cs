using ActorStack.Config;

namespace ActorStack.Actors.Devices;

/// <summary>What the supervisor decided about one driver fault.</summary>
/// <param name="ResetsInWindow">Resets in the window including this one (0 when giving up).</param>
/// <param name="GiveUp">The limit was reached: the device stays down.</param>
public readonly record struct DriverResetDecision(int ResetsInWindow, bool GiveUp);

/// <summary>
/// The back-off of one device's driver resets: at most <see cref="DeviceSupervisionSettings.ResetLimit"/> resets
/// in any <see cref="DeviceSupervisionSettings.ResetWindow"/> on the caller's clock; a fault beyond that gives up
/// for good. Bounded: it remembers at most ResetLimit times.
/// </summary>
public sealed class DriverResetPolicy(DeviceSupervisionSettings settings)
{
    private readonly Queue<long> _resets = new();

    public bool GaveUp { get; private set; }
    public long TotalResets { get; private set; }

    /// <summary>A fault at <paramref name="nowMs"/>: reset (and count it) or give up.</summary>
    public DriverResetDecision OnFault(long nowMs)
    {
        if (GaveUp) return new(0, true);
        long windowMs = (long)settings.ResetWindow.TotalMilliseconds;
        while (_resets.Count > 0 && nowMs - _resets.Peek() >= windowMs) _resets.Dequeue();
        if (_resets.Count >= settings.ResetLimit)
        {
            GaveUp = true;
            return new(0, true);
        }
        _resets.Enqueue(nowMs);
        TotalResets++;
        return new(_resets.Count, false);
    }
}
