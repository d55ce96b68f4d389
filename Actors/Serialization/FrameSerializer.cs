using System.Buffers.Binary;
using System.Collections.Immutable;
using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;
using ActorStack.Messages;

namespace ActorStack.Actors.Serialization;

/// <summary>
/// Binary serializer for <see cref="WireFrames"/>, the one message that crosses
/// cluster nodes on the data path (a wire whose ends live on two nodes):
/// a frame count, then each frame as a 32-bit length and its bytes.
/// </summary>
public sealed class FrameSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private const string WireFramesManifest = "WF";

    public override int Identifier => 4711;

    public override string Manifest(object o) => o switch
    {
        WireFrames => WireFramesManifest,
        _ => throw new ArgumentException($"cannot serialize {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj)
    {
        if (obj is not WireFrames w) throw new ArgumentException($"cannot serialize {obj.GetType()}");
        int size = 4;
        foreach (var f in w.Frames) size += 4 + f.Length;
        var buf = new byte[size];
        BinaryPrimitives.WriteInt32BigEndian(buf, w.Frames.Length);
        int off = 4;
        foreach (var f in w.Frames)
        {
            BinaryPrimitives.WriteInt32BigEndian(buf.AsSpan(off), f.Length);
            f.Span.CopyTo(buf.AsSpan(off + 4));
            off += 4 + f.Length;
        }
        return buf;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest != WireFramesManifest) throw new SerializationException($"unknown manifest {manifest}");
        if (bytes.Length < 4) throw new SerializationException("truncated WireFrames");
        int n = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (n < 0 || n > (bytes.Length - 4) / 4) throw new SerializationException($"bad frame count {n}");
        var b = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>(n);
        int off = 4;
        for (int i = 0; i < n; i++)
        {
            if (off + 4 > bytes.Length) throw new SerializationException("truncated WireFrames");
            int len = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(off));
            if (len < 0 || off + 4 + len > bytes.Length) throw new SerializationException($"bad frame length {len}");
            b.Add(bytes.AsMemory(off + 4, len));
            off += 4 + len;
        }
        return new WireFrames(b.MoveToImmutable());
    }
}
