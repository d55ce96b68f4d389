using System.Collections.Immutable;
using ActorStack.Messages;
using ActorStack.Messages.Packets;

namespace ActorStack.Config;

/// <summary>A host's link-watch and driver-supervision tunables (Linux defaults); see <see cref="LinkWatchSettings"/> and <see cref="DeviceSupervisionSettings"/>.</summary>
public sealed record HostLinkSettings(LinkWatchSettings LinkWatch, DeviceSupervisionSettings Supervision)
{
    public static readonly HostLinkSettings Default = new(LinkWatchSettings.Default, DeviceSupervisionSettings.Default);
}
