using System.Text;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>Learning-switch tunables, named after the Linux bridge's.</summary>
public sealed record LearningSwitchSettings
{
    /// <summary><c>ageing_time</c> (bridge, 300 s): a learned address not seen for this long is forgotten.</summary>
    public long AgeingTimeMs { get; init; } = 300_000;
    /// <summary><c>fdb_max_learned</c>: bound on learned entries (Linux's default 0 means unlimited; ActorStack bounds every table).</summary>
    public int FdbMaxLearned { get; init; } = 8192;
    public string BridgeName { get; init; } = "br0";

    public static readonly LearningSwitchSettings Default = new();
}
