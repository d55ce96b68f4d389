namespace ActorStack.Actors.Simulation;

/// <summary>
/// Published on the event stream when the fault schedule runs an action (<paramref name="Line"/> says what,
/// e.g. "cut wire h1/eth0-h2/eth0") and when a wire answers it (the outcome); the CLI prints each as it comes.
/// <paramref name="At"/> is the entry's time after the start of the workloads.
/// </summary>
public sealed record FaultScheduleEvent(TimeSpan At, string Line)
{
    public override string ToString() => $"[fault +{At.TotalSeconds:0.###}s] {Line}";
}
