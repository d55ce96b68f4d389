using System.Security.Cryptography;
using Akka.Actor;
using ActorStack.Config;
using ActorStack.Messages;
using ActorStack.Actors;

namespace ActorStack.Actors.Workloads;

/// <summary>
/// An iperf3-like bulk server (<c>iperf3 -s</c>): listens, accepts every connection (one blocking accept outstanding,
/// at most <see cref="MaxConnections"/> served at once, more are closed), reads the <see cref="BulkStream"/> header and
/// then either reads and counts the payload (hashing it) until the client's FIN and answers with the trailer, or in
/// reverse mode writes the seeded payload until the byte count is reached or the client half-closes, then its
/// retransmission count (<see cref="BulkStream.RetransTrailer"/>) and its FIN. It verifies
/// nothing; it prints iperf3's server lines (accepted connection, the receiver or sender summary, SHA-256).
/// </summary>
public sealed class TcpBulkServerActor : ReceiveActor
{
    public const int MaxConnections = 1024;
    /// <summary>The listen backlog (iperf3 listens with the default <c>SOMAXCONN</c>-capped backlog).</summary>
    public const int Backlog = 128;

    private sealed class Conn(int id, IActorRef socket)
    {
        public readonly int Id = id;
        public readonly IActorRef Socket = socket;
        public readonly List<byte> Header = new();
        public readonly IncrementalHash Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        public bool HeaderDone, Reverse, SendDone, EofSeen, ShutdownSent, InfoDone, Closed;
        public long Bytes, Issued, Written, Read, StartTicks;
        public int InFlight;
        public byte[] Block = [];
    }

    private readonly TcpBulkServerSettings _s;
    private readonly OutputLines _out;
    private readonly Dictionary<IActorRef, Conn> _conns = new(ActorRefComparer.Instance);
    private readonly TcpListenSequence _listen;
    private int _nextId = 5;
    private long _accepted, _read, _written, _errors;

    public TcpBulkServerActor(TcpBulkServerSettings s, IActorRef host, IActorRef? output)
    {
        _s = s;
        _out = new OutputLines(Context.System.EventStream, output, s.Host, "tcp-bulk-server");
        _listen = new TcpListenSequence(host, new Bind(s.Address, s.Port), Backlog, "tcp-bulk-server");
        Receive<SocketCreated>(_listen.OnCreated);
        Receive<SocketOk>(ok => _listen.OnOk(ok, () => _out.Print($"Server listening on {_s.Port}", Self)));
        Receive<Accepted>(OnAccepted);
        Receive<StreamData>(OnData);
        Receive<Sent>(OnSent);
        Receive<TcpSocketInfo>(OnInfo);
        Action<CommandFailed> onFailed = f =>
        {
            if (_listen.OnFailed(f)) return;
            if (!_conns.TryGetValue(Sender, out var c) || f.Command is Shutdown) return;
            _errors++;
            _out.Print($"[{c.Id,3}] iperf3: error - {Strerror.Of(f.Error)}", Self);
            CloseConn(c);
        };
        Receive<CommandFailed>(onFailed);
        Receive<GetWorkloadStatus>(_ => Sender.Tell(new TcpServerStatus(_s.Host, "tcp-bulk-server", Name, _listen.Ready, _accepted, _read, _written, 0, _errors)));
    }

    private string Name => $"{_s.Address}:{_s.Port}";
    private long Now => Context.System.Scheduler.Now.UtcTicks;

    protected override void PreStart() => _listen.Start();

    protected override void PostStop()
    {
        foreach (var c in _conns.Values) c.Hash.Dispose();
    }

    private void OnAccepted(Accepted a)
    {
        _listen.AcceptNext();
        if (_conns.Count >= MaxConnections) { a.Socket.Tell(Close.Instance); return; }
        _accepted++;
        var c = new Conn(_nextId++, a.Socket) { StartTicks = Now };
        _conns[a.Socket] = c;
        _out.Print($"Accepted connection from {a.Peer}, port {a.Port}", Self);
        a.Socket.Tell(new StreamRecv(BulkStream.BlockSize));
    }

    private void OnData(StreamData d)
    {
        if (!_conns.TryGetValue(Sender, out var c) || c.Closed) return;
        var data = d.Data.Span;
        if (!c.HeaderDone && !d.Eof)
        {
            int take = Math.Min(BulkStream.HeaderLength - c.Header.Count, data.Length);
            foreach (var b in data[..take]) c.Header.Add(b);
            data = data[take..];
            if (c.Header.Count == BulkStream.HeaderLength)
            {
                c.HeaderDone = true;
                c.StartTicks = Now;
                var (reverse, bytes, seed) = BulkStream.ReadHeader(c.Header.ToArray());
                c.Reverse = reverse;
                c.Bytes = bytes;
                if (reverse)
                {
                    c.Block = BulkStream.Block(seed);
                    Pump(c);
                }
            }
        }
        if (d.Eof)
        {
            c.EofSeen = true;
            if (!c.Reverse || !c.HeaderDone) { ReceiverDone(c); return; }
            c.SendDone = true; // the client half-closed: time is up
            if (c.InfoDone) CloseConn(c);
            else MaybeFinishSending(c);
            return;
        }
        if (c.HeaderDone && !c.Reverse && data.Length > 0)
        {
            c.Read += data.Length;
            _read += data.Length;
            c.Hash.AppendData(data);
        }
        c.Socket.Tell(new StreamRecv(BulkStream.BlockSize));
    }

    /// <summary>Forward mode, the client's FIN: the receiver summary, and the trailer telling the client what arrived.</summary>
    private void ReceiverDone(Conn c)
    {
        var sha = c.Hash.GetHashAndReset();
        double secs = (Now - c.StartTicks) / (double)TimeSpan.TicksPerSecond;
        _out.Print(IperfFormat.Summary(c.Id, 0, secs, c.Read, null, "receiver"), Self);
        _out.Print($"[{c.Id,3}] sha256 received {IperfFormat.Hex(sha)}", Self);
        c.Socket.Tell(new SendTo(BulkStream.Trailer(c.Read, sha)));
        c.ShutdownSent = true; // the trailer's Sent closes the connection
    }

    private void Pump(Conn c)
    {
        while (!c.SendDone && c.InFlight < BulkStream.SendsInFlight)
        {
            long remaining = c.Bytes > 0 ? c.Bytes - c.Issued : BulkStream.BlockSize;
            if (remaining <= 0) { c.SendDone = true; break; }
            var chunk = BulkStream.Chunk(c.Block, c.Issued, remaining);
            c.Hash.AppendData(chunk.Span);
            c.Issued += chunk.Length;
            c.InFlight++;
            c.Socket.Tell(new SendTo(chunk));
        }
        MaybeFinishSending(c);
    }

    private void OnSent(Sent m)
    {
        if (!_conns.TryGetValue(Sender, out var c) || c.Closed) return;
        if (!c.Reverse) { CloseConn(c); return; } // the trailer went
        if (c.InfoDone) return; // the retransmission trailer
        c.InFlight--;
        c.Written += m.Bytes;
        _written += m.Bytes;
        Pump(c);
    }

    private void MaybeFinishSending(Conn c)
    {
        if (!c.SendDone || c.InFlight > 0 || c.ShutdownSent) return;
        c.ShutdownSent = true;
        c.Socket.Tell(GetSocketInfo.Instance); // Retr for the sender summary and the trailer; then the FIN
    }

    private void OnInfo(TcpSocketInfo info)
    {
        if (!_conns.TryGetValue(Sender, out var c) || c.Closed) return;
        double secs = (Now - c.StartTicks) / (double)TimeSpan.TicksPerSecond;
        _out.Print(IperfFormat.Summary(c.Id, 0, secs, c.Written, info.Retrans, "sender"), Self);
        _out.Print($"[{c.Id,3}] sha256 sent {IperfFormat.Hex(c.Hash.GetHashAndReset())}", Self);
        c.InfoDone = true;
        c.Socket.Tell(new SendTo(BulkStream.RetransTrailer(info.Retrans)));
        c.Socket.Tell(new Shutdown(Shutdown.Wr));
        if (c.EofSeen) CloseConn(c); // else the outstanding read sees the client's close
    }

    private void CloseConn(Conn c)
    {
        if (c.Closed) return;
        c.Closed = true;
        c.Socket.Tell(Close.Instance);
        c.Hash.Dispose();
        _conns.Remove(c.Socket);
    }

    public static Props Props(TcpBulkServerSettings s, IActorRef host, IActorRef? output = null)
        => Akka.Actor.Props.Create(() => new TcpBulkServerActor(s, host, output));
}
