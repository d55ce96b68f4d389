#!/usr/bin/env python3
"""CPU-cost calibration of stack.hocon's host-defaults.cpu-cost against the running kernel (BENCHMARKS.md,
"CPU cost calibration"). Run as root from bench/calibrate: `python3 calibrate.py [--runs 3]`.

Each experiment runs in the ascal-* network namespaces (netns.sh) under `perf record -e cpu-clock -a -g`; every
sample is CPU time (its period in ns), so other load on the machine changes wall time but not the samples of our
packets. A sample is ours if its task is one of the calibration programs, ping or ksoftirqd, or if its kernel stack
runs net_rx_action (a softirq that ran in someone else's context). It goes to the stage of the innermost stage
function on its stack (STAGES); samples under page-level slab growth (allocate_slab, the flood keeps every skb queued
until the drain) are set apart as `slab-grow` and not charged. ns per packet = the stage's sampled ns / packets, the
packet counts from /proc/net/snmp in the namespaces. Each experiment runs --runs times; the table is the median."""
import argparse, json, os, re, signal, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = "/tmp/ascal_bin"
FREQ = 10000

# Innermost match wins, so only a stage's entry functions are listed; helpers (fib lookups, slab, skb free) are
# charged to the stage that called them. Names are compared without a ".constprop.0"/".isra.0" suffix.
STAGES = {
    "napi-poll": "veth_poll veth_xdp_rcv veth_xdp_rcv_skb veth_xdp_rcv_one __napi_poll net_rx_action process_backlog "
                 "napi_complete_done veth_forward_skb __dev_forward_skb __dev_forward_skb2 eth_type_trans __netif_rx "
                 "netif_rx_internal enqueue_to_backlog veth_xdp_rx __veth_xdp_flush napi_build_skb",
    "gro": "dev_gro_receive napi_gro_receive gro_receive_skb napi_gro_complete gro_complete inet_gro_receive "
           "udp4_gro_receive udp_gro_receive tcp4_gro_receive tcp_gro_receive inet_gro_complete tcp4_gro_complete "
           "skb_gro_receive napi_gro_flush __napi_gro_flush_chain gro_flush gro_normal_list",
    "netif-receive": "__netif_receive_skb_core __netif_receive_skb __netif_receive_skb_one_core "
                     "__netif_receive_skb_list_core netif_receive_skb_list_internal netif_receive_skb "
                     "__netif_receive_skb_list",
    "ip-rcv": "ip_rcv ip_rcv_core ip_rcv_finish ip_rcv_finish_core ip_list_rcv ip_sublist_rcv ip_sublist_rcv_finish "
              "ip_list_rcv_finish ip_route_input_noref ip_route_input_rcu ip_route_input_slow ip_route_use_hint "
              "ip_local_deliver ip_local_deliver_finish ip_protocol_deliver_rcu",
    "ip-forward": "ip_forward ip_forward_finish",
    "udp-rcv": "udp_rcv __udp4_lib_rcv udp_unicast_rcv_skb udp_queue_rcv_skb udp_queue_rcv_one_skb",
    "tcp-rcv": "tcp_v4_rcv tcp_v4_do_rcv tcp_rcv_established tcp_ack tcp_data_queue tcp_event_data_recv "
               "tcp_add_backlog tcp_v4_early_demux",
    "icmp-rcv": "icmp_rcv icmp_echo icmp_reply ping_rcv",
    "sock-enqueue": "__udp_enqueue_schedule_skb sock_def_readable tcp_queue_rcv tcp_data_ready sock_queue_rcv_skb "
                    "__sock_queue_rcv_skb sock_queue_rcv_skb_reason ping_queue_rcv_skb",
    "recvmsg": "__sys_recvmsg ___sys_recvmsg ____sys_recvmsg __x64_sys_recvmsg __x64_sys_recvfrom __sys_recvfrom "
               "udp_recvmsg inet_recvmsg sock_recvmsg tcp_recvmsg tcp_recvmsg_locked __x64_sys_read ksys_read",
    "copy": "_copy_to_iter _copy_from_iter copy_user_generic rep_movs_alternative __skb_datagram_iter "
            "skb_copy_datagram_iter copy_page_to_iter copy_page_from_iter csum_and_copy_to_iter",
    "sendmsg": "__sys_sendmsg ___sys_sendmsg ____sys_sendmsg __x64_sys_sendmsg __x64_sys_sendto __sys_sendto "
               "udp_sendmsg inet_sendmsg sock_sendmsg tcp_sendmsg tcp_sendmsg_locked __x64_sys_write ksys_write "
               "ip_make_skb __ip_append_data ip_append_data",
    "output": "udp_send_skb ip_send_skb ip_local_out __ip_local_out ip_output ip_finish_output __ip_finish_output "
              "ip_finish_output2 neigh_resolve_output neigh_output __dev_queue_xmit dev_queue_xmit dev_hard_start_xmit "
              "sch_direct_xmit __qdisc_run veth_xmit __tcp_transmit_skb ip_queue_xmit __ip_queue_xmit "
              "ip_push_pending_frames",
    "slab-grow": "allocate_slab discard_slab __free_slab free_slab",
}
FN = {f: st for st, fs in STAGES.items() for f in fs.split()}
OURS = re.compile(r"^(ascal_|ping$|ksoftirqd/)")


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True, **kw).stdout


def snmp(ns):
    """/proc/net/snmp of a namespace as {"Udp.InDatagrams": n, ...}."""
    lines = sh(f"ip netns exec {ns} cat /proc/net/snmp").splitlines()
    out = {}
    for h, v in zip(lines[0::2], lines[1::2]):
        p = h.split(":")[0]
        for k, x in zip(h.split()[1:], v.split()[1:]):
            out[f"{p}.{k}"] = int(x)
    return out


def delta(a, b):
    return {k: b[k] - a[k] for k in b}


def perf_record(out, cmd):
    return subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(FREQ), "-a", "-g", "-o", out, "--"]
                          + cmd, check=True, capture_output=True, text=True).stdout


def classify(data, own_syscall):
    """Sampled ns per stage of a perf.data file. own_syscall: {comm: stage} for a program's kernel samples that no
    stage function claims (syscall entry/exit)."""
    text = subprocess.run(["perf", "script", "-i", data, "-F", "comm,period,ip,sym"],
                          capture_output=True, text=True).stdout
    ns = {}
    for block in text.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if not lines:
            continue
        head = lines[0].rsplit(None, 1)
        if len(head) != 2 or not head[1].isdigit():
            continue
        comm, period = head[0].strip(), int(head[1])
        frames = []
        kernel = False
        for l in lines[1:]:
            parts = l.split(None, 1)
            if len(parts) < 2:
                continue
            addr, sym = parts
            if addr.startswith("ffffffff"):
                kernel = True
            frames.append(re.sub(r"\.(constprop|isra|part|cold)\.\d+$", "", sym.split("+")[0]).strip())
        stage = next((FN[f] for f in frames if f in FN), None)
        ours = OURS.match(comm) or "net_rx_action" in frames
        if not ours:
            continue
        if stage is None:
            if not kernel:
                stage = "user"
            else:
                stage = next((st for c, st in own_syscall.items() if comm.startswith(c)), "other-kernel")
        ns[stage] = ns.get(stage, 0) + period
    return ns


def udp(size, count, dst="10.91.0.2", port=9000, drain_profile=True, tag="udp"):
    """Flood `count` datagrams of `size` bytes a → b while the sink holds them, then drain; profile both."""
    d = f"/tmp/ascal_{tag}"
    before = {n: snmp(n) for n in ("ascal-a", "ascal-b", "ascal-r")}
    sink = subprocess.Popen(["ip", "netns", "exec", "ascal-b", f"{BIN}/ascal_udpsink", str(port)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    perf_record(f"{d}.flood.data", ["ip", "netns", "exec", "ascal-a", f"{BIN}/ascal_udpflood", dst, str(port),
                                    str(size), str(count)])
    mid = {n: snmp(n) for n in ("ascal-a", "ascal-b", "ascal-r")}
    perf = None
    if drain_profile:
        # perf over the whole system until the sink has drained, then stopped with SIGINT as Ctrl-C would.
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(FREQ), "-a", "-g", "-o",
                                 f"{d}.drain.data"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2.0)  # perf record -a needs a moment before it samples
    sink.stdin.write("go\n")
    sink.stdin.flush()
    read = sink.stdout.readline().split()
    sink.wait()
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    after = {n: snmp(n) for n in ("ascal-a", "ascal-b", "ascal-r")}
    flood = classify(f"{d}.flood.data", {"ascal_udpflood": "sendmsg"})
    drain = classify(f"{d}.drain.data", {"ascal_udpsink": "recvmsg"}) if drain_profile else {}
    return {"size": size, "count": count, "read": int(read[1]),
            "sent": delta(before["ascal-a"], mid["ascal-a"])["Udp.OutDatagrams"],
            "rcvbuf_errors": delta(before["ascal-b"], after["ascal-b"])["Udp.RcvbufErrors"],
            "forwarded": delta(before["ascal-r"], mid["ascal-r"])["Ip.ForwDatagrams"],
            "flood_ns": flood, "drain_ns": drain}


def tcp(total=300 << 20, chunk=65536):
    """A bulk TCP stream a → b with GRO, TSO and GSO off on the pair, so tcp_v4_rcv sees one MSS segment per skb."""
    for ns, dev in (("ascal-a", "ascal-a0"), ("ascal-b", "ascal-b0")):
        sh(f"ip netns exec {ns} ethtool -K {dev} gro off tso off gso off")
    try:
        before = snmp("ascal-b")
        rx = subprocess.Popen(["ip", "netns", "exec", "ascal-b", f"{BIN}/ascal_tcpstream", "recv", "9100"],
                              stdout=subprocess.PIPE, text=True)
        assert rx.stdout.readline().strip() == "ready"
        perf_record("/tmp/ascal_tcp.data", ["ip", "netns", "exec", "ascal-a", f"{BIN}/ascal_tcpstream", "send",
                                            "10.91.0.2", "9100", str(chunk), str(total)])
        rx.wait()
        after = snmp("ascal-b")
    finally:
        for ns, dev in (("ascal-a", "ascal-a0"), ("ascal-b", "ascal-b0")):
            sh(f"ip netns exec {ns} ethtool -K {dev} gro off tso on gso on; ip netns exec {ns} ethtool -K {dev} gro on")
    ns = classify("/tmp/ascal_tcp.data", {"ascal_tcpstream": "syscall"})
    return {"bytes": total, "in_segs": delta(before, after)["Tcp.InSegs"], "ns": ns}


def ping(count=50000):
    """ping -f: echo requests a → b answered by b's icmp_rcv → icmp_echo; the replies end in a's icmp_rcv → ping_rcv."""
    ba, bb = snmp("ascal-a"), snmp("ascal-b")
    perf_record("/tmp/ascal_ping.data", ["ip", "netns", "exec", "ascal-a", "ping", "-q", "-f", "-c", str(count),
                                         "10.91.0.2"])
    da, db = delta(ba, snmp("ascal-a")), delta(bb, snmp("ascal-b"))
    ns = classify("/tmp/ascal_ping.data", {"ping": "syscall"})
    return {"icmp_in": da["Icmp.InMsgs"] + db["Icmp.InMsgs"], "ns": ns}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    a = ap.parse_args()
    os.makedirs(BIN, exist_ok=True)
    for p in ("udpflood", "udpsink", "tcpstream"):
        sh(f"gcc -O2 -Wall -o {BIN}/ascal_{p} {HERE}/{p}.c")
    sh(f"{HERE}/netns.sh down; {HERE}/netns.sh up")
    sh("ip netns exec ascal-a ping -c1 -W1 10.91.0.2; ip netns exec ascal-a ping -c1 -W1 10.91.2.2")
    runs = []
    try:
        for i in range(a.runs):
            r = {"udp64": udp(64, a.count, tag="udp64"), "udp1400": udp(1400, a.count // 2, tag="udp1400"),
                 "forward": udp(64, a.count, dst="10.91.2.2", port=9001, drain_profile=False, tag="fwd"),
                 "tcp": tcp(), "ping": ping()}
            runs.append(r)
            print(f"run {i + 1} done", file=sys.stderr)
            json.dump({"kernel": os.uname().release, "runs": runs}, open(a.out, "w"), indent=1)
    finally:
        sh(f"{HERE}/netns.sh down")
    print(report(runs))


def per_packet(runs):
    """ns per packet per run and stage; each key from the experiment that exercises it."""
    rows = []
    for r in runs:
        u64, u1k, fw, t, p = r["udp64"], r["udp1400"], r["forward"], r["tcp"], r["ping"]
        k = {}
        for st in ("napi-poll", "gro", "netif-receive", "ip-rcv", "udp-rcv", "sock-enqueue"):
            k[st] = u64["flood_ns"].get(st, 0) / u64["read"]
        k["sendmsg"] = u64["flood_ns"].get("sendmsg", 0) / u64["sent"]
        k["output"] = u64["flood_ns"].get("output", 0) / u64["sent"]
        # copy-per-kib: the slope of the copy functions' time (copy_to_user side in the drain, copy_from_user side
        # in the flood) between 64 and 1400 bytes, both directions averaged. recvmsg and sendmsg are the intercepts:
        # the whole call at 64 bytes (copy functions included, their fixed part is the call's) less 64 B of copy.
        kib = (1400 - 64) / 1024
        f64, f1k = u64["flood_ns"].get("copy", 0) / u64["sent"], u1k["flood_ns"].get("copy", 0) / u1k["sent"]
        k["send-copy-slope"] = (f1k - f64) / kib
        if not u64["drain_ns"] or not u1k["drain_ns"]:
            # The drain's perf record caught no sample: recvmsg and copy do not count in this run; sendmsg takes
            # its copy at the send side's slope.
            k["recv-copy-slope"] = k["copy-per-kib"] = k["recvmsg"] = None
            k["sendmsg"] += f64 - 64 / 1024 * k["send-copy-slope"]
        else:
            add_recv(k, u64, u1k, f64, kib)
        k["ip-forward"] = fw["flood_ns"].get("ip-forward", 0) / fw["forwarded"]
        k["tcp-rcv"] = t["ns"].get("tcp-rcv", 0) / t["in_segs"]
        k["tcp-sock-enqueue"] = t["ns"].get("sock-enqueue", 0) / t["in_segs"]
        k["icmp-rcv"] = p["ns"].get("icmp-rcv", 0) / p["icmp_in"]
        k["udp-total-64"] = sum(v for s, v in u64["flood_ns"].items() if s not in ("user", "slab-grow")) / u64["sent"]
        k["slab-grow-64"] = u64["flood_ns"].get("slab-grow", 0) / u64["sent"]
        rows.append(k)
    return rows


def add_recv(k, u64, u1k, f64, kib):
    """recvmsg, copy-per-kib and sendmsg's copy from a run whose drains were both profiled."""
    c64, c1k = u64["drain_ns"].get("copy", 0) / u64["read"], u1k["drain_ns"].get("copy", 0) / u1k["read"]
    k["recv-copy-slope"] = (c1k - c64) / kib
    k["copy-per-kib"] = (k["recv-copy-slope"] + k["send-copy-slope"]) / 2
    k["recvmsg"] = (u64["drain_ns"].get("recvmsg", 0) + u64["drain_ns"].get("copy", 0)) / u64["read"] \
        - 64 / 1024 * k["copy-per-kib"]
    k["sendmsg"] += f64 - 64 / 1024 * k["copy-per-kib"]


def report(runs):
    rows = per_packet(runs)
    keys = list(rows[0])
    out = ["| key | " + " | ".join(f"run {i + 1}" for i in range(len(rows))) + " | median |",
           "|---|" + "---|" * (len(rows) + 1)]
    for key in keys:
        vals = [r[key] for r in rows]
        ok = [v for v in vals if v is not None]  # a run whose drain caught nothing has no recvmsg/copy
        out.append(f"| {key} | " + " | ".join("-" if v is None else f"{v:.0f}" for v in vals)
                   + f" | {statistics.median(ok):.0f} |")
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--report":
        print(report(json.load(open(sys.argv[2]))["runs"]))
    else:
        main()
