using ActorStack.Config;
using ActorStack.Hardware.Netem;
using ActorStack.Messages;

namespace ActorStack.Actors.Simulation;

/// <summary>
/// The fault-injection checks the configuration reader cannot make itself (it cannot see the tc-netem parser):
/// every netem option string — on a wire (<c>netem-a-to-b</c>, <c>netem-b-to-a</c>) and in the schedule — is parsed
/// as <c>tc qdisc add … netem</c> would parse it, and refused with tc's message under its key.
/// </summary>
public static class FaultCheck
{
    public static void Check(StackSettings s, ICollection<string> errors)
    {
        for (int i = 0; i < s.Wires.Length; i++)
        {
            var w = s.Wires[i];
            CheckSpec(w.NetemAToB, $"{StackConfig.Root}.scenario.wires[{i}].netem-a-to-b", errors);
            CheckSpec(w.NetemBToA, $"{StackConfig.Root}.scenario.wires[{i}].netem-b-to-a", errors);
        }
        foreach (var e in s.Schedule.OfType<SetWireNetemFault>())
            CheckSpec(e.Netem, $"{StackConfig.Root}.scenario.schedule[{e.Index}].netem", errors);
    }

    /// <summary>The wire's netem settings for one direction, parsed (the scenario was checked before the run).</summary>
    public static NetemQopt? Settings(WireSettings w, WireDirection d)
    {
        var spec = d == WireDirection.AToB ? w.NetemAToB : w.NetemBToA;
        return Parse(spec);
    }

    /// <summary>Parses checked options; null for none or empty.</summary>
    public static NetemQopt? Parse(string? spec)
        => string.IsNullOrWhiteSpace(spec) ? null : NetemParser.TryParse(spec, out var s, out _) ? s : null;

    private static void CheckSpec(string? spec, string key, ICollection<string> errors)
    {
        if (string.IsNullOrWhiteSpace(spec)) return;
        if (!NetemParser.TryParse(spec, out _, out var error))
            errors.Add($"{key} = \"{spec}\": {error}");
    }
}
