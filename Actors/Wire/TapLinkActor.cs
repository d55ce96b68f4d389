using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using ActorStack.Actors.Mailboxes;
using ActorStack.Hardware.Tap;
using ActorStack.Messages;
using ActorStack.Messages.Packets;
using ActorStack.Config;

namespace ActorStack.Actors.Wire;

/// <summary>
/// A cable whose far end is the real Linux kernel: a TAP device. For the NIC it is one end of a
/// <see cref="WireActor"/>: the NIC transmits <see cref="WireFrames"/> to it (after
/// <see cref="AttachWire"/>, which whoever builds the topology sends, as for a wire) and gets one
/// <see cref="WireTxDone"/> per message once its frames are written (<c>tun_get_user</c> →
/// <c>netif_rx</c>: the kernel receives them on the TAP interface). Frames the kernel transmits on the
/// interface (<c>tun_net_xmit</c>) are read by one dedicated background thread, which blocks in
/// <c>read</c> (I/O, not time), and are told to the NIC as <see cref="WireFrames"/> of at most
/// <see cref="TapLinkSettings.RxBatch"/> frames — whatever is already waiting joins the batch. The
/// NIC's bounded input FIFO takes them or counts <c>rx_fifo_errors</c>.
/// <para>
/// Every frame sent here is completed exactly once: written, failed (counted in
/// <see cref="TapLinkStats.TxErrors"/>), or dropped by this actor's bounded queue (<c>tx_queue_len</c>,
/// counted in <see cref="TapLinkStats.TxDropped"/>) — each answered by <see cref="WireTxDone"/> to its sender.
/// Frames from anyone are accepted, so a generator may inject too.
/// </para>
/// <para>
/// The device opens in the constructor: a failure (no <c>/dev/net/tun</c>, <c>EPERM</c>) stops the
/// actor with a <see cref="TapOpenException"/> carrying the errno. <c>PostStop</c> disposes the device,
/// which wakes and ends the reader thread; a device the open created goes away with it.
/// <see cref="GetWireStats"/> is answered with <see cref="WireStats"/>: A→B is sim→kernel, B→A kernel→sim,
/// the drops are the failed or dropped frames each way; <see cref="GetTapLinkStats"/> with the full <see cref="TapLinkStats"/>.
/// </para>
/// </summary>
public sealed class TapLinkActor : ReceiveActor
{
    private readonly IActorRef _nic;
    private readonly TapLinkSettings _settings;
    private readonly TapDevice _tap;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Thread? _reader;

    // Written by this actor only.
    private long _txPackets, _txBytes, _txErrors;
    // Written by senders' threads (queue overflow) or the reader thread: Interlocked.
    private long _txDropped, _rxPackets, _rxBytes, _rxOversize, _rxErrors;
    private int _lastErrno;
    private volatile bool _readerRunning;

    public TapLinkActor(IActorRef nic, string tapName, string? netnsPath, TapLinkSettings settings)
    {
        _nic = nic;
        _settings = settings.Validate();
        _tap = TapDevice.Open(tapName, netnsPath);

        var q = ChargedMessageQueue.Of(Context);
        if (q is not null)
        {
            q.Limit = _settings.TxQueueLen;
            var self = Self;
            q.OnDrop = (dropped, from) =>
            {
                Interlocked.Add(ref _txDropped, dropped.Count);
                from.Tell(new WireTxDone(dropped.Count), self);
            };
        }

        Receive<WireFrames>(m =>
        {
            q?.Uncharge(m.Count);
            WriteToKernel(m);
            Sender.Tell(new WireTxDone(m.Count), Self);
        });
        Receive<GetWireStats>(_ => Sender.Tell(new WireStats(_txPackets, Interlocked.Read(ref _rxPackets),
            _txErrors + Interlocked.Read(ref _txDropped),
            Interlocked.Read(ref _rxOversize) + Interlocked.Read(ref _rxErrors))));
        Receive<GetTapLinkStats>(_ => Sender.Tell(Snapshot()));
    }

    protected override void PreStart()
    {
        var self = Self;
        _readerRunning = true;
        _reader = new Thread(() => ReadLoop(self)) { IsBackground = true, Name = $"tap-rx {_tap.Name}" };
        _reader.Start();
        _log.Info("TAP link {0} (kernel MAC {1}) to {2}", _tap.Name, _tap.Mac, _nic.Path);
    }

    protected override void PostStop()
    {
        _tap.Dispose();
        _reader?.Join();
    }

    /// <summary><c>tun_get_user</c> per frame: the kernel receives it on the TAP as from a wire.</summary>
    private void WriteToKernel(WireFrames m)
    {
        foreach (var f in m.Frames)
        {
            int r = _tap.Write(f.Span);
            if (r >= 0)
            {
                _txPackets++;
                _txBytes += f.Length;
            }
            else
            {
                _txErrors++;
                Volatile.Write(ref _lastErrno, -r);
            }
        }
    }

    /// <summary>
    /// The reader thread: block for one frame, take what else is waiting up to the batch bound, tell
    /// the NIC. Ends when the device is disposed (read returns 0) or a read fails (device deleted).
    /// </summary>
    private void ReadLoop(IActorRef self)
    {
        // One spare byte: the kernel cuts a longer frame to the buffer, so a full buffer means "too long".
        var buffer = new byte[_settings.RxBufferSize + 1];
        var batch = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>(_settings.RxBatch);
        try
        {
            while (true)
            {
                int n = _tap.Read(buffer);
                if (n == 0) return;
                if (n < 0) { ReadFailed(n); return; }
                Take(buffer, n, batch);
                while (batch.Count < _settings.RxBatch)
                {
                    n = _tap.TryRead(buffer);
                    if (n == 0 || n == -Eagain) break;
                    if (n < 0) { ReadFailed(n); break; }
                    Take(buffer, n, batch);
                }
                if (batch.Count > 0)
                {
                    _nic.Tell(new WireFrames(batch.DrainToImmutable()), self);
                }
                if (n < 0 && n != -Eagain) return;
            }
        }
        finally
        {
            _readerRunning = false;
        }
    }

    private const int Eagain = (int)Errno.EAGAIN;

    private void Take(byte[] buffer, int n, ImmutableArray<ReadOnlyMemory<byte>>.Builder batch)
    {
        if (n > _settings.RxBufferSize)
        {
            Interlocked.Increment(ref _rxOversize);
            return;
        }
        batch.Add(buffer.AsSpan(0, n).ToArray());
        Interlocked.Increment(ref _rxPackets);
        Interlocked.Add(ref _rxBytes, n);
    }

    private void ReadFailed(int n)
    {
        Interlocked.Increment(ref _rxErrors);
        Volatile.Write(ref _lastErrno, -n);
        _log.Warning("TAP {0}: read failed with errno {1}; no more frames from the kernel", _tap.Name, -n);
    }

    private TapLinkStats Snapshot() => new(_tap.Name, _tap.Mac, _txPackets, _txBytes, _txErrors, Interlocked.Read(ref _txDropped),
        Interlocked.Read(ref _rxPackets), Interlocked.Read(ref _rxBytes), Interlocked.Read(ref _rxOversize),
        Interlocked.Read(ref _rxErrors), Volatile.Read(ref _lastErrno), _readerRunning);

    /// <summary>A TAP link for <paramref name="nic"/> on the interface <paramref name="tapName"/> in this process's network namespace.</summary>
    public static Props Props(IActorRef nic, string tapName)
        => Props(nic, tapName, null, TapLinkSettings.Default);

    /// <summary>
    /// A TAP link for <paramref name="nic"/>; with <paramref name="netnsPath"/> (an <c>ip netns</c> name or a
    /// namespace path) the TAP is opened, and if new created, inside that network namespace.
    /// </summary>
    public static Props Props(IActorRef nic, string tapName, string? netnsPath, TapLinkSettings settings)
        => Akka.Actor.Props.Create(() => new TapLinkActor(nic, tapName, netnsPath, settings)).WithMailbox("actorstack-nic-mailbox");
}
