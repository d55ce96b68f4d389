using System.Buffers.Binary;
using ActorStack.Messages.Packets;
using ActorStack.Tests.Support;

namespace ActorStack.Tests.Ipv4Udp;

/// <summary>A header with options (IHL &gt; 5): checksum over IHL*4 bytes, transport header after the options.</summary>
public class IpOptionsTests() : NetOnEngineKit("ip-options")
{
    private static byte[] WithNopOptions(byte[] plain, int udpLength)
    {
        var f = new byte[Math.Max(60, plain.Length + 4)];
        plain.AsSpan(0, 34).CopyTo(f);
        f[34] = 1; f[35] = 1; f[36] = 1; f[37] = 0;                        // NOP NOP NOP EOL
        plain.AsSpan(34, udpLength).CopyTo(f.AsSpan(38));
        f[14] = 0x46;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), (ushort)(24 + udpLength));
        f[24] = 0; f[25] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(24), Checksum.Compute(f.AsSpan(14, 24)));
        return f;
    }

    [Fact]
    public async Task IpRcv_HeaderWithOptions_DatagramDeliveredIntact()
    {
        var (host, nic) = await StartHost();
        var sock = await BoundSocket(host, "0.0.0.0", 7000);
        var payload = "options"u8.ToArray();
        var frame = WithNopOptions(Udp(7000, payload), 8 + payload.Length);
        var badCsum = WithNopOptions(Udp(7000, payload), 8 + payload.Length);
        badCsum[36] = 7;                                                    // covered by the checksum: now wrong
        Inject(nic, badCsum, frame);

        var d = (await ReadAll(sock, 1))[0];
        Assert.Equal(payload, d.Payload.ToArray());
        await Settled(host, s =>
        {
            Assert.Equal(1, s.Mib("IpExt")["InCsumErrors"]);
            Assert.Equal(1, s.Mib("Ip")["InHdrErrors"]);
            Assert.Equal(1, s.Mib("Ip")["InDelivers"]);
            Assert.Equal(0, s.Mib("Udp")["InErrors"]);
        });
    }
}
