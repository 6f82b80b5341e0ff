"""Issue 4 end to end: TOML rules files in capture mode (-L), checked with
tshark, and the rule engine checked against tcpdump's BPF as the oracle:
each rule's packets are what `tcpdump -O -r in.pcap <filter>` selects (-O:
pcapml compiles filters without libpcap's optimizer, whose known bugs make
some optimized programs disagree with their expression), and a packet's
label is the first such rule in order. Also per-flow and per-window samples
and the error messages."""
import random
import struct
import subprocess
from decimal import Decimal

import pytest
from scapy.all import ARP, ICMP, IP, LLC, STP, TCP, UDP, Dot1Q, Ether, IPv6, IPv6ExtHdrFragment, Raw, wrpcap
from scapy.layers.l2 import Dot1AD

from conftest import run, sample_id, tshark

T0 = 1700000000
A, B = "00:11:22:33:44:55", "00:11:22:33:44:66"


def eth(src=A, dst=B):
    return Ether(src=src, dst=dst)


def mixed_traffic():
    """Every kind of frame libpcap's filters treat specially, 1 ms apart."""
    p = [
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=443, flags="S"),
        eth(B, A) / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=443, dport=40000, flags="SA"),
        eth() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=443, flags="A") / Raw(b"x" * 40),
        eth() / IP(src="10.0.0.3", dst="8.8.8.8") / UDP(sport=5353, dport=53) / Raw(b"q"),
        eth() / IP(src="10.0.0.1", dst="10.0.0.9") / ICMP(),
        eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=1234, dport=80),
        eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(nh=17) / UDP(sport=9, dport=53),
        eth() / Dot1Q(vlan=10) / IP(src="10.0.1.5", dst="10.0.0.2") / UDP(sport=999, dport=53),
        eth() / Dot1AD(vlan=100) / Dot1Q(vlan=20) / IP(src="10.0.0.7", dst="10.0.0.8") / TCP(dport=22),
        eth() / IP(src="10.0.0.4", dst="10.0.0.5", flags="MF", frag=0) / UDP(sport=7, dport=53) / Raw(b"a" * 16),
        eth() / IP(src="10.0.0.4", dst="10.0.0.5", frag=3, proto=17) / Raw(b"\x00\x35\x00\x35" + b"b" * 12),
        eth() / ARP(psrc="10.0.0.1", pdst="10.0.0.2"),
        Ether(src=A, dst="01:80:c2:00:00:00") / LLC() / STP(),
        eth() / IP(src="192.168.9.9", dst="10.0.0.2", options=b"\x01\x01\x01\x00") / TCP(sport=2222, dport=22),
        eth(B, A) / IP(src="10.0.0.9", dst="10.0.0.1") / ICMP(type=0),
        Ether(src="02:00:00:00:00:99", dst=B, type=0x88CC) / Raw(b"lldp" * 4),
        eth() / IP(src="10.0.0.1", dst="10.0.0.9") / ICMP(),
        eth() / IP(src="172.16.0.1", dst="172.16.0.2") / UDP(sport=123, dport=123),  # no rule
    ]
    for i, pkt in enumerate(p):
        pkt.time = Decimal(T0) + Decimal(i) / 1000
    return p


def pcap_times(path):
    """(sec, usec) of every record of a classic microsecond pcap."""
    data = open(path, "rb").read()
    times, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        times.append((sec, usec))
        off += 16 + incl
    return times


def tcpdump_selects(pcap, bpf, tmp_path):
    """The (sec, usec) of the packets `tcpdump -O` selects with bpf."""
    out = tmp_path / "sel.pcap"
    subprocess.run(["tcpdump", "-O", "-r", str(pcap), "-w", str(out), bpf], capture_output=True, check=True)
    return set(pcap_times(out))


def toml_rules(rules):
    """rules: dicts of TOML values (strings quoted, others verbatim)."""
    text = ""
    for r in rules:
        text += "[[rule]]\n"
        for k, v in r.items():
            text += f"{k} = {v}\n" if not isinstance(v, str) or k in ("start", "end", "meta") else f'{k} = "{v}"\n'
        text += "\n"
    return text


def labels_by_time(out):
    """{(sec, usec): comment} of a pcapng pcapml wrote."""
    rows = tshark(out, "frame.time_epoch", "frame.comment")
    res = {}
    for t, comment in rows:
        d = Decimal(t)
        res[(int(d), int((d - int(d)) * 1000000))] = comment
    return res


def expected_labels(pcap, rules, tmp_path):
    """First rule (in order) whose BPF tcpdump matches and whose window holds the packet."""
    selected = [tcpdump_selects(pcap, r.get("filter", ""), tmp_path) for r in rules]
    want = {}
    for t in pcap_times(pcap):
        ts = t[0] + t[1] / 1e6
        for r, sel in zip(rules, selected):
            lo, hi = r.get("_window", (0, 1e12))
            if t in sel and lo <= ts <= hi:
                want[t] = f"{sample_id(r['id'])},{r['label']}"
                break
    return want


MIXED_RULES = [
    {"id": "vlan-dns", "label": "vlan-dns", "filter": "vlan 10 and udp port 53"},
    {"id": "syn", "label": "syn", "filter": "tcp[13] & 2 != 0"},  # not in the subset: BPF
    {"id": "https", "label": "https", "filter": "host 10.0.0.2 and tcp port 443"},
    {"id": "v6-tcp", "label": "v6-tcp", "filter": "net 2001:db8::/32 and tcp"},
    {"id": "dns", "label": "dns", "filter": "udp port 53 or 5353"},
    {"id": "qinq", "label": "qinq", "filter": "vlan and vlan 20 and tcp"},
    {"id": "arp", "label": "arp", "filter": "arp host 10.0.0.2"},
    {"id": "ping-early", "label": "ping-early", "filter": "icmp", "start": T0, "end": f'"{T0}.010"',
     "_window": (T0, T0 + 0.010)},
    {"id": "v6", "label": "v6", "filter": "ip6"},
    {"id": "ssh", "label": "ssh", "filter": "src net 192.168.0.0/16 and dst port 22"},
    {"id": "lan", "label": "lan", "filter": "src net 10.0.0.0/24 or dst 10.0.0.1"},
    {"id": "stp", "label": "stp", "filter": "ether dst 01:80:c2:00:00:00"},
    {"id": "other", "label": "other", "filter": "not ip and not ip6 and not arp"},
]


def test_labels_equal_tcpdump_first_match(tmp_path):
    pcap = tmp_path / "in.pcap"
    wrpcap(str(pcap), mixed_traffic())
    rules = [{k: v for k, v in r.items() if not k.startswith("_")} for r in MIXED_RULES]
    (tmp_path / "rules.toml").write_text(toml_rules(rules))
    out = tmp_path / "out.pcapng"
    run("-P", pcap, "-L", tmp_path / "rules.toml", "-W", out)
    got = labels_by_time(out)
    want = expected_labels(pcap, MIXED_RULES, tmp_path)
    assert got == want
    # The traffic exercises most rules, and some packets match none.
    assert len({v.split(",")[1] for v in want.values()}) >= 10
    assert len(want) < len(pcap_times(pcap))


def test_many_rules_equal_tcpdump(tmp_path):
    """120 host/net/port/vlan/ether rules over random traffic: the indexes give
    the same first match as tcpdump rule by rule."""
    rnd = random.Random(4)
    hosts = [f"10.{rnd.randrange(2)}.{rnd.randrange(4)}.{rnd.randrange(1, 40)}" for _ in range(60)]
    pkts = []
    for i in range(300):
        ip = IP(src=rnd.choice(hosts), dst=rnd.choice(hosts))
        l4 = TCP(sport=rnd.randrange(1000, 1010), dport=rnd.choice([22, 80, 443])) if rnd.random() < 0.6 else \
            UDP(sport=rnd.randrange(1000, 1010), dport=53)
        frame = eth(rnd.choice([A, B]), B) / (Dot1Q(vlan=rnd.choice([10, 20])) / ip if rnd.random() < 0.2 else ip) / l4
        frame.time = Decimal(T0) + Decimal(i) / 1000
        pkts.append(frame)
    pcap = tmp_path / "in.pcap"
    wrpcap(str(pcap), pkts)
    forms = [lambda: f"host {rnd.choice(hosts)}", lambda: f"src host {rnd.choice(hosts)}",
             lambda: f"net 10.{rnd.randrange(2)}.{rnd.randrange(4)}.0/24",
             lambda: f"dst net 10.{rnd.randrange(2)}.0.0/16 and tcp port {rnd.choice([22, 80, 443])}",
             lambda: f"udp port 53 and host {rnd.choice(hosts)}", lambda: f"vlan {rnd.choice([10, 20])} and "
             f"host {rnd.choice(hosts)}", lambda: f"ether src {rnd.choice([A, B])} and dst {rnd.choice(hosts)}",
             lambda: f"host {rnd.choice(hosts)} or {rnd.choice(hosts)}", lambda: "portrange 1000-1001 and udp"]
    rules = [{"id": f"r{i}", "label": f"l{i}", "filter": rnd.choice(forms)()} for i in range(120)]
    (tmp_path / "rules.toml").write_text(toml_rules(rules))
    out = tmp_path / "out.pcapng"
    run("-P", pcap, "-L", tmp_path / "rules.toml", "-W", out, "--keep-unmatched")
    got = {t: c for t, c in labels_by_time(out).items() if c}
    want = expected_labels(pcap, rules, tmp_path)
    assert got == want
    assert len(set(want.values())) > 20


def test_toml_fields_meta_sensor_and_content_detection(tmp_path):
    pcap = tmp_path / "in.pcap"
    wrpcap(str(pcap), mixed_traffic())
    rules = tmp_path / "rules.txt"  # no .toml: recognised by its [[rule]] header
    rules.write_text('# TOML rules\n[[rule]]\nid = "web"\nlabel = "browsing"\nfilter = "tcp port 443"\n'
                     'meta = { run = 3, browser = "firefox" }\nsample_key = "web-2024"\n\n'
                     '[[rule]]\nid = "late"\nlabel = "late"\nstart = 2023-11-14T22:13:20.010+00:00\n')
    out = tmp_path / "out.pcapng"
    p = run("-P", pcap, "-L", rules, "-W", out, "--sensor-id", "s1", "--stats")
    web = f"{sample_id('s1/web-2024')},browsing,browser=firefox,run=3"
    late = f"{sample_id('s1/late')},late"
    rows = tshark(out, "frame.time_epoch", "frame.comment")
    assert [c for _, c in rows[:3]] == [web] * 3
    # start is inclusive: 1700000000.010 (the 11th packet) is the first "late" one.
    assert [c for _, c in rows[3:]] == [late] * (len(mixed_traffic()) - 10)  # from the 11th on
    assert rows[3][0].startswith("1700000000.010")
    assert "2 samples" in p.stderr


def flow_traffic():
    c1 = [("10.0.0.1", 40000, "10.0.0.2", 443), ("10.0.0.2", 443, "10.0.0.1", 40000)]
    c2 = ("10.0.0.1", 40001, "10.0.0.2", 443)
    plan = [(0.0, c1[0]), (0.5, c1[1]), (1.0, c2), (2.0, c1[0]), (3.0, c1[1]),
            (20.0, c1[1]), (20.5, c1[0])]  # c1's 5-tuple again after 17 s of silence
    pkts = []
    for t, (s, sp, d, dp) in plan:
        f = eth() / IP(src=s, dst=d) / TCP(sport=sp, dport=dp)
        f.time = Decimal(T0) + Decimal(str(t))
        pkts.append(f)
    pkts.append(eth() / ARP(psrc="10.0.0.1", pdst="10.0.0.2"))
    pkts[-1].time = Decimal(T0 + 21)
    return pkts


def test_flow_samples(tmp_path):
    pcap = tmp_path / "in.pcap"
    wrpcap(str(pcap), flow_traffic())
    (tmp_path / "r.toml").write_text('[[rule]]\nid = "web"\nlabel = "web"\nfilter = "tcp or arp"\n'
                                     'sample = "flow"\nidle_timeout = "10s"\n')
    out = tmp_path / "out.pcapng"
    p = run("-P", pcap, "-L", tmp_path / "r.toml", "-W", out, "--stats")
    ids = [int(c.split(",")[0]) for (c,) in tshark(out, "frame.comment")]
    first = sample_id(f"web|6 10.0.0.1 40000 10.0.0.2 443|{T0 * 10**9}")
    second = sample_id(f"web|6 10.0.0.1 40001 10.0.0.2 443|{(T0 + 1) * 10**9}")
    reused = sample_id(f"web|6 10.0.0.1 40000 10.0.0.2 443|{(T0 + 20) * 10**9}")
    # One connection, both directions: one ID; another connection: another;
    # the 5-tuple after the idle timeout: a new one; ARP: the rule's own sample.
    assert ids == [first, first, second, first, first, reused, reused, sample_id("web")]
    assert "3 flows, 2 ended idle" in p.stderr  # c1 and c2 were both idle at t=20


def test_window_samples(tmp_path):
    pkts = [eth() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP() for _ in range(3)]
    for pkt, t in zip(pkts, ["1.5", "9.999999", "10"]):
        pkt.time = Decimal(T0) + Decimal(t)
    pcap = tmp_path / "in.pcap"
    wrpcap(str(pcap), pkts)
    (tmp_path / "r.toml").write_text('[[rule]]\nid = "all"\nlabel = "x"\nsample = "window"\nwindow = "10s"\n')
    out = tmp_path / "out.pcapng"
    run("-P", pcap, "-L", tmp_path / "r.toml", "-W", out)
    ids = [int(c.split(",")[0]) for (c,) in tshark(out, "frame.comment")]
    w0, w1 = T0 * 10**9, (T0 + 10) * 10**9  # windows aligned to multiples of 10 s since the epoch
    assert ids == [sample_id(f"all|{w0}"), sample_id(f"all|{w0}"), sample_id(f"all|{w1}")]


@pytest.mark.parametrize("body,line,rule,what", [
    ('id = "web"\nlabel = "x"\nlable = "y"\n', 4, "web", "unknown key 'lable'"),
    ('id = "a"\nlabel = "x"\n\n[[rule]]\nid = "a"\nlabel = "y"\n', 6, "a", "duplicate id (first defined at line 1)"),
    ('id = "t"\nlabel = "x"\nstart = 2024-02-30T00:00:00Z\n', 4, "t", ""),
    ('id = "t"\nlabel = "x"\nend = 2024-05-01T08:00:00\n', 4, "t", "needs a UTC offset"),
    ('id = "b"\nlabel = "x"\nfilter = "tcp prot 80"\n', 4, "b", "invalid BPF filter 'tcp prot 80'"),
    ('id = "n"\nlabel = "x"\nfilter = "udp\\u0000 and port 99"\n', 4, "n",
     "filter contains a NUL byte 'udp\\0 and port 99'"),
    ('id = "n"\nlabel = "x\\u0000y"\n', 3, "n", "label contains a NUL byte 'x\\0y'"),
])
def test_errors_name_file_line_and_rule(tmp_path, body, line, rule, what):
    pcap = tmp_path / "in.pcap"
    wrpcap(str(pcap), mixed_traffic()[:2])
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\n" + body)
    out = tmp_path / "out.pcapng"
    p = run("-P", pcap, "-L", rules, "-W", out, check=False)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"pcapml: {rules}:{line}: rule '{rule}': "), lines[0]
    assert what in lines[0]
    assert not out.exists() and not (tmp_path / "out.pcapng.partial").exists()
