using System.Buffers.Binary;
using System.Security.Cryptography;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Actors;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// An iperf3-like bulk client (<c>iperf3 -c</c>): <c>Parallel</c> stream sockets connect to the server; each writes the
/// <see cref="BulkStream"/> header, then (forward) writes the seeded payload 128 KiB at a time until <c>Bytes</c> were
/// written or <c>Time</c> ran out, half-closes and reads the server's trailer (bytes read, SHA-256); or (reverse) reads
/// until the server's FIN, half-closing itself when <c>Time</c> ran out; the server's last 8 bytes are its retransmission
/// count, printed in the sender summary as <c>iperf3 -R</c> does. Every <c>Interval</c> (a timer: scheduler time
/// only) it prints iperf3's interval line per stream, for a sending stream with Retr and Cwnd from the socket's
/// <see cref="TcpSocketInfo"/>; at the end the sender/receiver summary and both ends' SHA-256.
/// A stream whose connect or transfer fails prints the error and ends; the others go on.
/// </summary>
public sealed class TcpBulkClientActor : ReceiveActor, IWithTimers
{
    private sealed record IntervalTick
    {
        public static readonly IntervalTick Instance = new();
    }
    private sealed record EndTick
    {
        public static readonly EndTick Instance = new();
    }

    /// <summary>A socket that stopped never answers its last GetSocketInfo: the summary is printed without it.</summary>
    private sealed record FinalInfoTimeout
    {
        public static readonly FinalInfoTimeout Instance = new();
    }

    private sealed class Stream(int id)
    {
        public readonly int Id = id;
        public IActorRef Socket = ActorRefs.Nobody;
        public bool Connected, Announced, HeaderDone, SendDone, ShutdownSent, Done, AwaitingFinalInfo;
        public int InFlight;
        public long Issued, Written, Read, LastReported, Retrans;
        public long EndTicks, ReceiverTicks;
        public bool ServerRetrans;
        public readonly byte[] Tail = new byte[BulkStream.RetransTrailerLength];
        public int TailCount;
        public long ReceiverBytes = -1;
        public byte[]? ReceiverSha, LocalSha;
        public readonly IncrementalHash Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        public readonly List<byte> Trailer = new();
        public readonly Queue<(double Start, double End, long Bytes, bool Final)> PendingLines = new();
        public string? Error;
    }

    private readonly TcpBulkClientSettings _s;
    private readonly IActorRef _host;
    private readonly OutputLines _out;
    private readonly byte[] _block;
    private readonly List<Stream> _streams = new();
    private readonly Dictionary<IActorRef, Stream> _bySocket = new(ActorRefComparer.Instance);
    private int _created;
    private long _startTicks, _lastTickTicks;
    private bool _running, _done;

    public ITimerScheduler Timers { get; set; } = null!;

    public TcpBulkClientActor(TcpBulkClientSettings s, IActorRef host, IActorRef? output)
    {
        _s = s;
        _host = host;
        _out = new OutputLines(Context.System.EventStream, output, s.Host, "tcp-bulk-client");
        _block = BulkStream.Block(s.PayloadSeed);
        for (int i = 0; i < s.Parallel; i++) _streams.Add(new Stream(5 + i)); // iperf3's first data socket is fd 5

        Receive<SocketCreated>(c =>
        {
            if (_created >= _streams.Count) { c.Socket.Tell(Close.Instance); return; }
            var st = _streams[_created++];
            st.Socket = c.Socket;
            _bySocket[c.Socket] = st;
            // iperf3 -C / -N: TCP_CONGESTION and TCP_NODELAY before connect (the socket answers in order, before the connect).
            // Cubic is the settings' default and so is not forced: a host whose tcp_congestion_control is reno stays reno.
            if (_s.Congestion != TcpCongestion.Cubic) c.Socket.Tell(new SetCongestionControl(_s.Congestion.ToString().ToLowerInvariant()));
            if (_s.NoDelay) c.Socket.Tell(new SetSocketOption(SockOpt.TcpNodelay, 1));
            c.Socket.Tell(new StreamConnect(_s.Server, _s.Port));
        });
        Receive<SocketOk>(ok =>
        {
            if (!_bySocket.TryGetValue(Sender, out var st)) return;
            switch (ok.Command)
            {
                case StreamConnect:
                    st.Connected = true;
                    st.Socket.Tell(GetSocketInfo.Instance); // the "connected" line; the test starts once every stream printed it
                    break;
            }
        });
        Receive<CommandFailed>(OnFailed);
        Receive<Sent>(OnSent);
        Receive<StreamData>(OnData);
        Receive<TcpSocketInfo>(OnInfo);
        Receive<IntervalTick>(_ => Interval(final: false));
        Receive<EndTick>(_ =>
        {
            foreach (var st in _streams.Where(x => !x.Done))
            {
                if (_s.Reverse) ShutdownWrite(st);
                else { st.SendDone = true; MaybeFinishSending(st); }
            }
        });
        Receive<FinalInfoTimeout>(_ => Finish());
        Receive<GetWorkloadStatus>(_ => Sender.Tell(Status()));
    }

    private long Now => Context.System.Scheduler.Now.UtcTicks;
    private double Sec(long ticks) => (ticks - _startTicks) / (double)TimeSpan.TicksPerSecond;

    protected override void PreStart()
    {
        _out.Print($"Connecting to host {_s.Server}, port {_s.Port}", Self);
        if (_s.Reverse) _out.Print($"Reverse mode, remote host {_s.Server} is sending", Self);
        for (int i = 0; i < _s.Parallel; i++) _host.Tell(new SocketCreate(SockType.Stream));
    }

    protected override void PostStop()
    {
        foreach (var st in _streams) st.Hash.Dispose();
    }

    private void MaybeStart()
    {
        if (_running || _streams.Any(st => !st.Announced && st.Error is null)) return;
        if (_streams.All(st => st.Error is not null)) { Finish(); return; }
        _running = true;
        _startTicks = _lastTickTicks = Now;
        _out.Print(_s.Reverse ? IperfFormat.IntervalHeaderReceiver : IperfFormat.IntervalHeaderSender, Self);
        Timers.StartPeriodicTimer("interval", IntervalTick.Instance, _s.Interval);
        if (_s.Bytes == 0) Timers.StartSingleTimer("end", EndTick.Instance, _s.Time);
        foreach (var st in _streams.Where(x => x.Announced && !x.Done))
        {
            st.Socket.Tell(new SendTo(BulkStream.Header(_s.Reverse, _s.Reverse ? _s.Bytes : 0, _s.PayloadSeed)));
            if (_s.Reverse) st.Socket.Tell(new StreamRecv(BulkStream.BlockSize));
        }
    }

    private void OnSent(Sent m)
    {
        if (!_bySocket.TryGetValue(Sender, out var st) || st.Done) return;
        if (!st.HeaderDone)
        {
            st.HeaderDone = true;
            if (!_s.Reverse) Pump(st);
            return;
        }
        st.InFlight--;
        st.Written += m.Bytes;
        Pump(st);
        MaybeFinishSending(st);
    }

    /// <summary>Keeps <see cref="BulkStream.SendsInFlight"/> writes outstanding until the byte count is reached or the time is up.</summary>
    private void Pump(Stream st)
    {
        while (!st.SendDone && st.InFlight < BulkStream.SendsInFlight)
        {
            long remaining = _s.Bytes > 0 ? _s.Bytes - st.Issued : BulkStream.BlockSize;
            if (remaining <= 0) { st.SendDone = true; break; }
            var chunk = BulkStream.Chunk(_block, st.Issued, remaining);
            st.Hash.AppendData(chunk.Span);
            st.Issued += chunk.Length;
            st.InFlight++;
            st.Socket.Tell(new SendTo(chunk));
        }
    }

    private void MaybeFinishSending(Stream st)
    {
        if (!st.SendDone || st.InFlight > 0 || st.ShutdownSent) return;
        st.EndTicks = Now;
        ReportInterval(st, st.EndTicks, final: true);
        st.LocalSha = st.Hash.GetHashAndReset();
        ShutdownWrite(st);
        st.Socket.Tell(new StreamRecv(BulkStream.TrailerLength)); // the server's trailer, then its FIN
    }

    private void ShutdownWrite(Stream st)
    {
        if (st.ShutdownSent) return;
        st.ShutdownSent = true;
        st.Socket.Tell(new Shutdown(Shutdown.Wr));
    }

    private void OnData(StreamData d)
    {
        if (!_bySocket.TryGetValue(Sender, out var st) || st.Done) return;
        if (!_s.Reverse)
        {
            if (!d.Eof)
            {
                foreach (var b in d.Data.Span) if (st.Trailer.Count < BulkStream.TrailerLength) st.Trailer.Add(b);
                st.Socket.Tell(new StreamRecv(BulkStream.TrailerLength));
                return;
            }
            st.ReceiverTicks = Now;
            if (st.Trailer.Count == BulkStream.TrailerLength)
            {
                var t = st.Trailer.ToArray();
                st.ReceiverBytes = BinaryPrimitives.ReadInt64BigEndian(t);
                st.ReceiverSha = t[8..];
            }
            else st.Error = "the server closed without reporting what it received";
            EndStream(st);
            return;
        }
        if (d.Eof)
        {
            if (st.TailCount == BulkStream.RetransTrailerLength)
            {
                st.Retrans = BinaryPrimitives.ReadInt64BigEndian(st.Tail);
                st.ServerRetrans = true;
            }
            else Consume(st, st.Tail.AsSpan(0, st.TailCount)); // a server that ended early: what it sent is payload
            st.TailCount = 0;
            st.EndTicks = st.ReceiverTicks = Now;
            ReportInterval(st, st.EndTicks, final: true);
            st.LocalSha = st.Hash.GetHashAndReset();
            st.ReceiverBytes = st.Read;
            EndStream(st);
            return;
        }
        TakePayload(st, d.Data.Span);
        st.Socket.Tell(new StreamRecv(BulkStream.BlockSize));
    }

    /// <summary>Reverse mode: the last <see cref="BulkStream.RetransTrailerLength"/> bytes seen may be the server's trailer; they are held back until more data or the FIN.</summary>
    private static void TakePayload(Stream st, ReadOnlySpan<byte> data)
    {
        int release = Math.Max(0, st.TailCount + data.Length - BulkStream.RetransTrailerLength);
        int fromTail = Math.Min(release, st.TailCount);
        if (fromTail > 0)
        {
            Consume(st, st.Tail.AsSpan(0, fromTail));
            st.Tail.AsSpan(fromTail, st.TailCount - fromTail).CopyTo(st.Tail);
            st.TailCount -= fromTail;
        }
        int fromData = release - fromTail;
        Consume(st, data[..fromData]);
        data[fromData..].CopyTo(st.Tail.AsSpan(st.TailCount));
        st.TailCount += data.Length - fromData;
    }

    private static void Consume(Stream st, ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty) return;
        st.Read += payload.Length;
        st.Hash.AppendData(payload);
    }

    private void OnFailed(CommandFailed f)
    {
        if (!_bySocket.TryGetValue(Sender, out var st) || st.Done) return;
        if (f.Command is SetCongestionControl or SetSocketOption)
        {
            _out.Print($"iperf3: error - unable to set TCP_{(f.Command is SetCongestionControl ? "CONGESTION" : "NODELAY")}: {Strerror.Of(f.Error)}", Self);
            return;
        }
        if (f.Command is StreamConnect)
        {
            st.Error = $"unable to connect to server: {Strerror.Of(f.Error)}";
            _out.Print($"iperf3: error - {st.Error}", Self);
            st.Done = true;
            st.Socket.Tell(Close.Instance);
            if (_running) MaybeFinish(); else MaybeStart();
            return;
        }
        if (f.Command is Shutdown) return;
        st.Error = $"{(f.Command is SendTo ? "send" : "recv")}: {Strerror.Of(f.Error)}";
        _out.Print($"[{st.Id,3}] iperf3: error - {st.Error}", Self);
        st.EndTicks = st.ReceiverTicks = Now;
        EndStream(st);
    }

    private void EndStream(Stream st)
    {
        if (st.Done) return;
        st.Done = true;
        st.AwaitingFinalInfo = st.Announced;
        if (st.Announced) st.Socket.Tell(GetSocketInfo.Instance); // the final retransmission count, before the close
        st.Socket.Tell(Close.Instance);
        MaybeFinish();
    }

    private void Interval(bool final)
    {
        long now = Now;
        foreach (var st in _streams.Where(x => x.Connected && !x.Done && !(x.ShutdownSent && !_s.Reverse))) ReportInterval(st, now, final);
        _lastTickTicks = now;
    }

    /// <summary>One interval line: the bytes written (read, in reverse) since the last; a sender's waits for the socket's Retr and Cwnd.</summary>
    private void ReportInterval(Stream st, long now, bool final)
    {
        long total = _s.Reverse ? st.Read : st.Written;
        long delta = total - st.LastReported;
        double start = Sec(_lastTickTicks), end = Sec(now);
        if (final && end - start < 0.001 && delta == 0) return;
        st.LastReported = total;
        if (_s.Reverse) _out.Print(IperfFormat.ReceiverInterval(st.Id, start, end, delta), Self);
        else
        {
            st.PendingLines.Enqueue((start, end, delta, final));
            st.Socket.Tell(GetSocketInfo.Instance);
        }
    }

    private void OnInfo(TcpSocketInfo info)
    {
        if (!_bySocket.TryGetValue(Sender, out var st)) return;
        if (!st.Announced)
        {
            st.Announced = true; // the answer to the GetSocketInfo sent when the connect completed (answers come in order)
            _out.Print($"[{st.Id,3}] local {info.LocalAddress} port {info.LocalPort} connected to {info.RemoteAddress} port {info.RemotePort}", Self);
            MaybeStart();
            return;
        }
        if (st.PendingLines.TryDequeue(out var l))
            _out.Print(IperfFormat.SenderInterval(st.Id, l.Start, l.End, l.Bytes, Math.Max(0, info.Retrans - st.Retrans), (long)info.Cwnd * info.Mss), Self);
        else st.AwaitingFinalInfo = false;
        if (!_s.Reverse) st.Retrans = Math.Max(st.Retrans, info.Retrans);
        MaybeFinish();
    }

    private void MaybeFinish()
    {
        if (_streams.All(st => st.Done && st.PendingLines.Count == 0 && !st.AwaitingFinalInfo)) Finish();
        else if (_streams.All(st => st.Done)) Timers.StartSingleTimer("final-info", FinalInfoTimeout.Instance, TimeSpan.FromSeconds(1));
    }

    private void Finish()
    {
        if (_done) return;
        _done = true;
        Timers.CancelAll();
        var ok = _streams.Where(st => st.Connected).ToList();
        if (ok.Count > 0)
        {
            _out.Print(IperfFormat.Separator, Self);
            _out.Print(IperfFormat.SummaryHeader, Self);
            foreach (var st in ok)
            {
                long sent = _s.Reverse ? st.Read : st.Written;
                _out.Print(IperfFormat.Summary(st.Id, 0, Sec(st.EndTicks), sent, !_s.Reverse || st.ServerRetrans ? st.Retrans : null, "sender"), Self);
                if (st.ReceiverBytes >= 0)
                    _out.Print(IperfFormat.Summary(st.Id, 0, Sec(st.ReceiverTicks), st.ReceiverBytes, null, "receiver"), Self);
            }
            if (ok.Count > 1)
            {
                double end = ok.Max(st => Sec(st.EndTicks)), rend = ok.Max(st => Sec(st.ReceiverTicks));
                _out.Print(IperfFormat.Summary(-1, 0, end, ok.Sum(st => _s.Reverse ? st.Read : st.Written), _s.Reverse && !ok.All(st => st.ServerRetrans) ? null : ok.Sum(st => st.Retrans), "sender"), Self);
                _out.Print(IperfFormat.Summary(-1, 0, rend, ok.Sum(st => Math.Max(0, st.ReceiverBytes)), null, "receiver"), Self);
            }
            foreach (var st in ok.Where(st => st.LocalSha is not null))
            {
                var local = IperfFormat.Hex(st.LocalSha!);
                if (_s.Reverse) _out.Print($"[{st.Id,3}] sha256 received {local}", Self);
                else if (st.ReceiverSha is { } r)
                    _out.Print($"[{st.Id,3}] sha256 sent {local} received {IperfFormat.Hex(r)}: {(r.AsSpan().SequenceEqual(st.LocalSha) ? "match" : "MISMATCH")}", Self);
            }
        }
        _out.Print("", Self);
        _out.Print("iperf Done.", Self);
        _out.Completed(Status(), Self);
    }

    private TcpBulkClientStatus Status()
    {
        bool match = !_s.Reverse
            ? _streams.All(st => st.Error is null && st.LocalSha is not null && st.ReceiverSha is not null && st.ReceiverSha.AsSpan().SequenceEqual(st.LocalSha))
            : _streams.All(st => st.Error is null && st.LocalSha is not null);
        return new TcpBulkClientStatus(_s.Host, _s.Server, _s.Port, _streams.Count,
            _s.Reverse ? 0 : _streams.Sum(st => st.Written), _s.Reverse ? _streams.Sum(st => st.Read) : _streams.Sum(st => Math.Max(0, st.ReceiverBytes)),
            _streams.Sum(st => st.Retrans), match, _streams.Count(st => st.Error is not null), _done);
    }

    public static Props Props(TcpBulkClientSettings s, IActorRef host, IActorRef? output = null)
        => Akka.Actor.Props.Create(() => new TcpBulkClientActor(s, host, output));
}
