using ActorStack.Config;
namespace ActorStack.Actors.Tcp;

/// <summary>
/// The congestion state a TCB exposes to its algorithm, in packets (segments) as Linux
/// keeps <c>snd_cwnd</c> / <c>snd_ssthresh</c>.
/// </summary>
public sealed class CongestionState
{
    public int Cwnd;
    /// <summary><c>snd_ssthresh</c>; <see cref="int.MaxValue"/> is TCP_INFINITE_SSTHRESH.</summary>
    public int SsThresh = int.MaxValue;
    /// <summary><c>snd_cwnd_cnt</c>: ACKed packets counted towards the next linear increase.</summary>
    public int CwndCnt;
    /// <summary>Smoothed RTT in ticks (0 before the first sample).</summary>
    public long SrttTicks;
    public bool InSlowStart => Cwnd < SsThresh;
}

/// <summary>
/// A congestion control algorithm, after Linux's <c>struct tcp_congestion_ops</c>:
/// <c>ssthresh</c> on loss, <c>cong_avoid</c> per ACK outside recovery, <c>cwnd_event</c>
/// for a retransmission timeout. Time is passed in (ticks).
/// </summary>
public interface ICongestionControl
{
    string Name { get; }
    /// <summary>New ssthresh after a loss is detected (<c>ssthresh</c>); the caller then sets cwnd.</summary>
    int SsThresh(CongestionState s);
    /// <summary>Grow cwnd for <paramref name="acked"/> newly ACKed packets (<c>cong_avoid</c>), only when cwnd-limited.</summary>
    void CongAvoid(CongestionState s, int acked, long nowTicks);
    /// <summary>A retransmission timeout happened (CA_EVENT_LOSS): forget the current epoch.</summary>
    void OnLoss(CongestionState s);

    public static ICongestionControl Create(CongestionAlgorithm a) => a switch
    {
        CongestionAlgorithm.Reno => new RenoCongestionControl(),
        _ => new CubicCongestionControl(),
    };
}

/// <summary>RFC 5681 NewReno window growth (Linux <c>tcp_reno_cong_avoid</c>, <c>tcp_slow_start</c>, <c>tcp_cong_avoid_ai</c>).</summary>
public sealed class RenoCongestionControl : ICongestionControl
{
    public string Name => "reno";

    /// <summary><c>tcp_reno_ssthresh</c>: half the window, at least 2.</summary>
    public int SsThresh(CongestionState s) => Math.Max(s.Cwnd >> 1, 2);

    public void CongAvoid(CongestionState s, int acked, long nowTicks)
    {
        if (s.InSlowStart)
        {
            acked = SlowStart(s, acked);
            if (acked == 0) return;
        }
        CongAvoidAi(s, s.Cwnd, acked);
    }

    public void OnLoss(CongestionState s) { }

    /// <summary><c>tcp_slow_start</c>: cwnd grows by the ACKed packets up to ssthresh; returns the rest.</summary>
    internal static int SlowStart(CongestionState s, int acked)
    {
        long cwnd = Math.Min((long)s.Cwnd + acked, s.SsThresh);
        acked -= (int)(cwnd - s.Cwnd);
        s.Cwnd = (int)cwnd;
        return acked;
    }

    /// <summary><c>tcp_cong_avoid_ai</c>: one packet more per <paramref name="w"/> ACKed packets.</summary>
    internal static void CongAvoidAi(CongestionState s, int w, int acked)
    {
        if (s.CwndCnt >= w) { s.CwndCnt = 0; s.Cwnd++; }
        s.CwndCnt += acked;
        if (s.CwndCnt >= w)
        {
            int delta = s.CwndCnt / w;
            s.CwndCnt -= delta * w;
            s.Cwnd += delta;
        }
    }
}

/// <summary>
/// CUBIC (RFC 9438), Linux's default (<c>tcp_cubic.c</c>): after a loss the window is
/// W_cubic(t) = C (t - K)^3 + W_max with C = 0.4, beta = 0.7, K = cbrt(W_max (1 - beta) / C),
/// with fast convergence and the Reno-friendly estimate W_est. Computed in doubles from the
/// passed-in time, so it is deterministic. HyStart is not modelled.
/// </summary>
public sealed class CubicCongestionControl : ICongestionControl
{
    public const double C = 0.4;
    public const double Beta = 0.7;
    /// <summary>RFC 9438 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta).</summary>
    public static readonly double AlphaCubic = 3 * (1 - Beta) / (1 + Beta);

    private double _wMax;          // W_max: window before the last reduction
    private double _wEst;          // W_est: Reno-friendly estimate
    private double _k;             // K in seconds
    private double _origin;        // the plateau W_cubic grows towards
    private long _epochStart = -1; // t = 0 of the current congestion avoidance epoch
    private double _frac;          // fractional cwnd growth carried between ACKs

    public string Name => "cubic";
    public double WMax => _wMax;
    public double K => _k;

    /// <summary>RFC 9438 4.6 / 4.7: fast convergence and multiplicative decrease by beta.</summary>
    public int SsThresh(CongestionState s)
    {
        _epochStart = -1;
        if (s.Cwnd < _wMax) _wMax = s.Cwnd * (1 + Beta) / 2; // fast convergence
        else _wMax = s.Cwnd;
        return Math.Max((int)(s.Cwnd * Beta), 2);
    }

    public void OnLoss(CongestionState s)
    {
        _epochStart = -1;
        _frac = 0;
    }

    public void CongAvoid(CongestionState s, int acked, long nowTicks)
    {
        if (s.InSlowStart)
        {
            acked = RenoCongestionControl.SlowStart(s, acked);
            if (acked == 0) return;
        }
        if (_epochStart < 0)
        {
            _epochStart = nowTicks;
            _frac = 0;
            _wEst = s.Cwnd;
            if (s.Cwnd < _wMax)
            {
                _k = Math.Cbrt((_wMax - s.Cwnd) / C);
                _origin = _wMax;
            }
            else
            {
                _k = 0;
                _origin = s.Cwnd;
            }
        }
        double rtt = s.SrttTicks > 0 ? (double)s.SrttTicks / TimeSpan.TicksPerSecond : 0.1;
        double t = (double)(nowTicks - _epochStart) / TimeSpan.TicksPerSecond;
        double d = t + rtt - _k;
        double wCubic = _origin + C * d * d * d;
        // Reno-friendly region (RFC 9438 4.3): W_est grows by alpha_cubic per RTT.
        _wEst += AlphaCubic * acked / s.Cwnd;
        double target = Math.Max(wCubic, _wEst);
        target = Math.Min(target, 1.5 * s.Cwnd); // RFC 9438 4.2: target at most 1.5 cwnd
        if (target <= s.Cwnd) return;
        _frac += (target - s.Cwnd) / s.Cwnd * acked;
        if (_frac >= 1)
        {
            int inc = (int)_frac;
            s.Cwnd += inc;
            _frac -= inc;
        }
    }
}
