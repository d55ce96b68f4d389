using ActorStack.Hardware.Nic;
using ActorStack.Actors.Devices;
using ActorStack.Actors.Sched;
using ActorStack.Actors.Softnet;

namespace ActorStack.Tests.Nic;

public class RpsTests
{
    [Theory]
    [InlineData(0x7FFFFFFFu, new[] { 0, 1 }, 0)]
    [InlineData(0x80000000u, new[] { 0, 1 }, 1)]
    [InlineData(0xFFFFFFFFu, new[] { 4, 5, 6 }, 6)]
    [InlineData(0x55555555u, new[] { 4, 5, 6 }, 4)] // 0x55555555 * 3 = 0xFFFFFFFF → 0
    [InlineData(0x55555556u, new[] { 4, 5, 6 }, 5)] // 0x55555556 * 3 = 0x1_00000002 → 1
    [InlineData(0xAAAAAAABu, new[] { 4, 5, 6 }, 6)] // * 3 = 0x2_00000001 → 2
    [InlineData(0x12345678u, new[] { 3 }, 3)]
    public void Rps_SelectCpu_ReciprocalScaleIndex(uint hash, int[] cpus, int expected)
        => Assert.Equal(expected, Rps.SelectCpu(hash, cpus));

    [Fact]
    public void Rps_SelectCpu_EmptyMapOrNoHash_MinusOne()
    {
        Assert.Equal(-1, Rps.SelectCpu(0x12345678u, ReadOnlySpan<int>.Empty));
        Assert.Equal(-1, Rps.SelectCpu(0, new[] { 0, 1 }));
    }

    [Fact]
    public void Rps_ReciprocalScale_ExactValues()
    {
        Assert.Equal(0u, Rps.ReciprocalScale(0xFFFFFFFF, 1));
        Assert.Equal(9u, Rps.ReciprocalScale(0xFFFFFFFF, 10));
        Assert.Equal(5u, Rps.ReciprocalScale(0x80000000, 10));
        Assert.Equal(0u, Rps.ReciprocalScale(0x19999999, 10));
        Assert.Equal(1u, Rps.ReciprocalScale(0x1999999A, 10));
    }

    [Theory]
    [InlineData("3", new[] { 0, 1 })]
    [InlineData("f", new[] { 0, 1, 2, 3 })]
    [InlineData("F\n", new[] { 0, 1, 2, 3 })]
    [InlineData("0", new int[0])]
    [InlineData("00000003", new[] { 0, 1 })]
    [InlineData("a", new[] { 1, 3 })]
    [InlineData("80000000", new[] { 31 })]
    [InlineData("1,0", new[] { 32 })]
    [InlineData("2,00000001", new[] { 0, 33 })]
    public void Rps_ParseCpuMask_ValidMasks(string mask, int[] expected)
        => Assert.Equal(expected, Rps.ParseCpuMask(mask));

    [Fact]
    public void Rps_ParseCpuMask_TwoGroups_Sorted()
    {
        var cpus = Rps.ParseCpuMask("ffffffff,00000001");
        Assert.Equal(new[] { 0 }.Concat(Enumerable.Range(32, 32)), cpus);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xyz")]
    [InlineData("0x3")]
    [InlineData("1,,2")]
    [InlineData("123456789")]
    [InlineData("-1")]
    [InlineData(" 3")]
    [InlineData("3,")]
    public void Rps_ParseCpuMask_Garbage_ThrowsFormatExceptionNamingValue(string mask)
    {
        var ex = Assert.Throws<FormatException>(() => Rps.ParseCpuMask(mask));
        Assert.Contains($"'{mask}'", ex.Message);
    }

    [Fact]
    public void Rps_FormatCpuMask_RoundTrips()
    {
        Assert.Equal("00000003", Rps.FormatCpuMask(new[] { 0, 1 }));
        Assert.Equal("00000001,00000001", Rps.FormatCpuMask(new[] { 0, 32 }));
        Assert.Equal("00000000", Rps.FormatCpuMask(ReadOnlySpan<int>.Empty));
        Assert.Equal(new[] { 0, 5, 40 }, Rps.ParseCpuMask(Rps.FormatCpuMask(new[] { 40, 5, 0 })));
    }
}
