using System.Collections.Immutable;
using System.Runtime.Serialization;
using Akka.Serialization;
using ActorStack.Tests.Engine;
using ActorStack.Actors.Serialization;
using ActorStack.Messages;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>WireFrames crosses cluster nodes: the configured serializer round-trips it and rejects garbage with SerializationException.</summary>
public class FrameSerializerTests() : EngineKit("frame-serializer")
{
    [Fact]
    public void FrameSerializer_WireFrames_RoundTripsThroughConfiguredSerializer()
    {
        var msg = new WireFrames([new byte[] { 1, 2, 3 }, Array.Empty<byte>(), Enumerable.Range(0, 1514).Select(i => (byte)i).ToArray()]);
        var ser = Assert.IsType<FrameSerializer>(Sys.Serialization.FindSerializerFor(msg));
        Assert.Equal(4711, ser.Identifier);
        var bytes = ser.ToBinary(msg);
        Assert.Equal(4 + 3 * 4 + 3 + 0 + 1514, bytes.Length);
        var back = Assert.IsType<WireFrames>(Sys.Serialization.Deserialize(bytes, ser.Identifier, ser.Manifest(msg)));
        Assert.Equal(msg.Frames.Select(f => f.ToArray()), back.Frames.Select(f => f.ToArray()));
    }

    public static TheoryData<byte[], string> Garbage => new()
    {
        { [], "WF" },
        { [0, 0], "WF" },
        { [0x7F, 0xFF, 0xFF, 0xFF], "WF" },                 // frame count far beyond the bytes
        { [0xFF, 0xFF, 0xFF, 0xFF], "WF" },                 // negative count
        { [0, 0, 0, 1, 0, 0, 0, 9, 1, 2], "WF" },           // frame length past the end
        { [0, 0, 0, 1, 0x80, 0, 0, 0], "WF" },              // negative frame length
        { [0, 0, 0, 2, 0, 0, 0, 0], "WF" },                 // second frame missing
        { [0, 0, 0, 0], "XX" },                             // unknown manifest
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void FrameSerializer_Garbage_ThrowsSerializationException(byte[] bytes, string manifest)
    {
        var ser = (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(WireFrames));
        Assert.Throws<SerializationException>(() => ser.FromBinary(bytes, manifest));
    }
}
