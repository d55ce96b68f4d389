using ActorStack.Actors.Cluster;
using ActorStack.Config;
using Xunit;

namespace ActorStack.Tests.Cluster;

/// <summary><c>actorstack.cluster.heartbeat-pause</c>: read, bounded, and handed to both failure detectors of a member.</summary>
public sealed class HeartbeatPauseTests
{
    [Fact]
    public void Default_Is30s_OnBothFailureDetectors()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), StackConfig.Load(ClusterKit.Routed()).Cluster.HeartbeatPause);
        var hocon = ClusterNode.Hocon();
        Assert.Equal(TimeSpan.FromSeconds(30), hocon.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromSeconds(30), hocon.GetTimeSpan("akka.remote.watch-failure-detector.acceptable-heartbeat-pause"));
    }

    [Fact]
    public void Set_ReachesTheMembersConfiguration()
    {
        var s = StackConfig.Load(ClusterKit.Routed() + "\nactorstack.cluster { heartbeat-pause = 2500ms }\n");
        Assert.Equal(TimeSpan.FromMilliseconds(2500), s.Cluster.HeartbeatPause);
        var hocon = ClusterNode.Hocon(s.Cluster.HeartbeatPause);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), hocon.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromMilliseconds(2500), hocon.GetTimeSpan("akka.remote.watch-failure-detector.acceptable-heartbeat-pause"));
    }

    [Theory]
    [InlineData("999ms")] // below 1 s: a busy member would be downed at once
    [InlineData("11m")]   // above 10 min: a lost node would hold the run that long
    public void OutOfBounds_Refused(string value)
    {
        var e = Assert.Throws<StackConfigException>(() => StackConfig.Load(ClusterKit.Routed() + $"\nactorstack.cluster {{ heartbeat-pause = {value} }}\n"));
        Assert.Contains("actorstack.cluster.heartbeat-pause", e.Message);
    }

    [Theory]
    [InlineData("1s")]
    [InlineData("10m")]
    public void Bounds_Accepted(string value)
        => Assert.True(StackConfig.Load(ClusterKit.Routed() + $"\nactorstack.cluster {{ heartbeat-pause = {value} }}\n").Cluster.HeartbeatPause > TimeSpan.Zero);
}
