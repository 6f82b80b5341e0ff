"""Issue 6 end to end: plugin rules with the real binary and the real plugin
libraries. tls_sni runs on a capture of real openssl TLS connections over
loopback; dns on DNS answers and traffic built with scapy; tshark is the
oracle for server names, streams and timestamps."""
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from decimal import Decimal

import pytest

from conftest import BIN, run, sample_id, tshark

PLUGINS = os.path.join(os.path.dirname(BIN), "plugins")


def plugin(name):
    path = os.path.join(PLUGINS, name + ".so")
    assert os.path.exists(path), f"{path} not built"
    return path


def ns(epoch):
    return int(Decimal(epoch) * 1_000_000_000)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tls_capture(tmp_path_factory):
    """Three openssl s_client connections to s_server on loopback, captured
    with tcpdump: SNI www.example.com, SNI api.example.org, and none."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", d / "key.pem", "-out", d / "cert.pem", "-days", "1", "-subj", "/CN=test"],
                   check=True, capture_output=True)
    port = free_port()
    cap = d / "tls.pcap"
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-n", "-w", cap, f"tcp port {port}"],
                            stderr=subprocess.PIPE, text=True)
    assert "listening on" in dump.stderr.readline()
    server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", d / "cert.pem",
                               "-key", d / "key.pem", "-www", "-quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        # The probe above is a TCP connection without TLS: a fourth stream.
        for name in ["www.example.com", "api.example.org", None]:
            sni = ["-servername", name] if name else ["-noservername"]
            subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-quiet", *sni],
                           input=b"GET / HTTP/1.0\r\n\r\n", capture_output=True, timeout=10, check=True)
    finally:
        server.terminate()
        server.wait()
        time.sleep(0.3)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
    return cap, port


def streams(path):
    """tshark's view of a capture: one dict per frame."""
    rows = tshark(path, "tcp.stream", "ip.src", "tcp.srcport", "tcp.dstport", "frame.time_epoch",
                  "tls.handshake.extensions_server_name", "tls.handshake.type")
    return [dict(stream=int(r[0]), src=r[1], sport=int(r[2]), dport=int(r[3]), ns=ns(r[4]),
                 sni=r[5], hs=r[6]) for r in rows]


def write_rules(tmp_path, text):
    rules = tmp_path / "rules.toml"
    rules.write_text(text)
    return rules


def test_tls_sni_labels_each_connection_from_its_client_hello(tmp_path, tls_capture):
    cap, port = tls_capture
    rules = write_rules(tmp_path, f"""
[[rule]]
id = "sni"
plugin = "tls_sni"
filter = "tcp port {port}"

[[plugin]]
name = "tls_sni"
path = "{plugin('tls_sni')}"
names = {{ "*.example.org" = "example-org" }}
""")
    out = tmp_path / "out.pcapng"
    p = run("label", "-P", cap, "-L", rules, "-W", out, "--keep-unmatched", "--stats")
    frames = streams(cap)
    comments = [r[0] for r in tshark(out, "frame.comment")]
    assert len(comments) == len(frames)
    hello = {}  # stream -> (frame index of its ClientHello, server name)
    for i, f in enumerate(frames):
        if f["hs"].split(",")[0] == "1":
            hello[f["stream"]] = (i, f["sni"])
    assert sorted(n for _, n in hello.values()) == ["", "api.example.org", "www.example.com"]
    labeled = held = 0
    for i, f in enumerate(frames):
        at, name = hello.get(f["stream"], (None, ""))
        if not name:
            assert comments[i] == "", f"frame {i + 1}: {comments[i]}"
            continue
        syn = next(g for g in frames if g["stream"] == f["stream"])
        lo, hi = sorted([syn["sport"], syn["dport"]])
        key = f"sni|6 127.0.0.1 {lo} 127.0.0.1 {hi}|{syn['ns']}"
        label = "example-org" if name.endswith(".example.org") else name
        assert comments[i] == f"{sample_id(key)},{label},sni={name}", f"frame {i + 1}"
        labeled += 1
        held += i < at
    # Every packet of a named connection was labeled, both directions, the
    # ones before its ClientHello (SYN, SYN-ACK, ACK) held until it came.
    assert labeled > 20 and held == 6
    assert {f["src"] for f in frames} == {"127.0.0.1"}
    assert f"plugin tls_sni: {len(frames)} packets in, {labeled - held} labeled, " in p.stderr
    assert f"packets held: {held} labeled by their plugin" in p.stderr


def test_flow_position_numbers_packets_per_connection(tmp_path, tls_capture):
    cap, port = tls_capture
    rules = write_rules(tmp_path, f"""
[[rule]]
id = "pos"
plugin = "flow_position"
filter = "tcp"

[[plugin]]
name = "flow_position"
path = "{plugin('flow_position')}"
max_packets = 4
""")
    out = tmp_path / "out.pcapng"
    run("label", "-P", cap, "-L", rules, "-W", out, "--keep-unmatched")
    comments = [r[0] for r in tshark(out, "frame.comment")]
    frames = streams(cap)
    seen = {}
    for f, c in zip(frames, comments):
        n = seen[f["stream"]] = seen.get(f["stream"], 0) + 1
        first = next(g for g in frames if g["stream"] == f["stream"])
        if n > 4:
            assert c == ""
            continue
        fields = c.split(",")
        assert fields[1:] == ["flow", f"pkt={n}", "dir=" + ("fwd" if f["sport"] == first["sport"] else "rev")]


def write_dns_capture(path):
    """DNS answers, then traffic to the answered addresses (and others)."""
    from scapy.all import DNS, DNSQR, DNSRR, IP, IPv6, TCP, UDP, Ether, wrpcap

    t0 = 1_700_000_000
    pkts = []

    def add(t, pkt):
        pkt = Ether() / pkt
        pkt.time = Decimal(t0) + Decimal(t)
        pkts.append(pkt)

    def answer(t, qname, records):
        add(t, IP(src="10.0.0.53", dst="10.0.0.1") / UDP(sport=53, dport=33000) /
            DNS(id=1, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname), an=records))

    answer("0", "www.example.com", DNSRR(rrname="www.example.com", type="A", ttl=60, rdata="93.184.216.34") /
           DNSRR(rrname="www.example.com", type="AAAA", ttl=60, rdata="2606:2800:220:1::1"))
    answer("0.5", "api.example.org", DNSRR(rrname="api.example.org", type="CNAME", ttl=300, rdata="edge.cdn.test") /
           DNSRR(rrname="edge.cdn.test", type="A", ttl=5, rdata="198.51.100.7"))
    flows = []  # (first frame index, expected name or None, 5-tuple)

    def tcp(t, src, dst, sport, name, count=4):
        flows.append((len(pkts), name, ("6", src, sport, dst, 443), count))
        for k in range(count):
            a, b, p, q = (src, dst, sport, 443) if k % 2 == 0 else (dst, src, 443, sport)
            add(f"{t}.{k}", IP(src=a, dst=b) / TCP(sport=p, dport=q, flags="S" if k == 0 else "A"))

    tcp(1, "10.0.0.1", "93.184.216.34", 40001, "www.example.com", 6)
    flows.append((len(pkts), "www.example.com", ("17", "2001:db8::1", 50000, "2606:2800:220:1::1", 443), 2))
    add("2.0", IPv6(src="2001:db8::1", dst="2606:2800:220:1::1") / UDP(sport=50000, dport=443) / b"q")
    add("2.1", IPv6(src="2606:2800:220:1::1", dst="2001:db8::1") / UDP(sport=443, dport=50000) / b"r")
    tcp(3, "10.0.0.1", "198.51.100.7", 40002, "api.example.org")
    tcp(4, "10.0.0.1", "203.0.113.9", 40004, None)   # never resolved
    tcp(9, "10.0.0.1", "198.51.100.7", 40003, None)  # the answer's 5 s TTL ran out
    wrpcap(str(path), pkts, nano=True)
    return flows


def test_dns_labels_traffic_to_answered_addresses(tmp_path):
    cap = tmp_path / "dns.pcap"
    flows = write_dns_capture(cap)
    rules = write_rules(tmp_path, f"""
[[rule]]
id = "names"
plugin = "dns"
filter = "udp port 53 or tcp port 443 or udp port 443"

[[plugin]]
name = "dns"
path = "{plugin('dns')}"
names = {{ "*.example.org" = "example-org" }}
""")
    out = tmp_path / "out.pcapng"
    p = run("label", "-P", cap, "-L", rules, "-W", out, "--keep-unmatched", "--stats")
    rows = tshark(out, "frame.comment", "frame.time_epoch")
    expect = [""] * len(rows)
    # The answers themselves are lookups (one 4-tuple), labeled by the name each asked.
    lookup = sample_id(f"names|17 10.0.0.1 33000 10.0.0.53 53|{ns(rows[0][1])}")
    expect[0] = f"{lookup},www.example.com,dns=www.example.com"
    expect[1] = f"{lookup},example-org,dns=api.example.org"
    for first, name, (proto, a, pa, b, pb), count in flows:
        if name is None:
            continue
        lo, hi = sorted([(socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a), pa, a),
                         (socket.inet_pton(socket.AF_INET6 if ":" in b else socket.AF_INET, b), pb, b)])
        key = f"names|{proto} {lo[2]} {lo[1]} {hi[2]} {hi[1]}|{ns(rows[first][1])}"
        label = "example-org" if name.endswith(".example.org") else name
        for i in range(first, first + count):
            expect[i] = f"{sample_id(key)},{label},dns={name}"
    assert [r[0] for r in rows] == expect
    assert "plugin dns: 22 packets in, 14 labeled, 8 no opinion, 0 errors, 0 held" in p.stderr


def test_a_plugin_of_another_interface_version_is_refused(tmp_path, tls_capture):
    cap, _ = tls_capture
    rules = write_rules(tmp_path, '[[rule]]\nid = "echo"\nplugin = "test_echo"\n')
    stale = os.path.join(PLUGINS, "testing", "test_echo_v999.so")
    p = run("label", "-P", cap, "-L", rules, "-W", tmp_path / "out.pcapng", "--plugin", stale, check=False)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        f"pcapml: --plugin {stale}: {stale}: built against plugin API version 999, but this pcapml speaks "
        "version 2; rebuild the plugin with this pcapml's pcapml_plugin.h"]
    assert not (tmp_path / "out.pcapng").exists()
    good = os.path.join(PLUGINS, "testing", "test_echo.so")
    run("label", "-P", cap, "-L", rules, "-W", tmp_path / "out.pcapng", "--plugin", good)
    assert {r[0].split(",", 1)[1] for r in tshark(tmp_path / "out.pcapng", "frame.comment")} == {"echo"}


@pytest.mark.parametrize("table, message", [
    ('name = "tls_sni"\npath = "{so}"\nnmaes = {{}}\n',
     "rules.toml:4: plugin 'tls_sni' has no setting 'nmaes' (known: names, unknown, sample, name_field, "
     "idle_timeout, max_connections, max_hello_bytes)"),
    ('name = "tls_sni"\npath = "{so}"\nidle_timeout = "soon"\n',
     "rules.toml:4: plugin 'tls_sni': idle_timeout must be a duration such as \"30s\": invalid duration 'soon'"),
    ('name = "dns"\npath = "{so}"\n', "the plugin calls itself 'tls_sni', not 'dns' as configured"),
    # A NUL byte would reach the plugin, and from it the labels, cut short.
    ('name = "tls_sni"\npath = "{so}"\nnames = {{ "www.example.com\\u0000x" = "web" }}\n',
     "rules.toml:4: plugin 'tls_sni': names key contains a NUL byte"),
    ('name = "tls_sni"\npath = "{so}"\nnames = {{ "*.example.com" = "w\\u0000eb" }}\n',
     "rules.toml:4: plugin 'tls_sni': names value contains a NUL byte"),
])
def test_plugin_configuration_errors(tmp_path, tls_capture, table, message):
    cap, _ = tls_capture
    rules = write_rules(tmp_path, "[[plugin]]\n" + table.format(so=plugin("tls_sni")) +
                        '[[rule]]\nid = "sni"\nplugin = "tls_sni"\n')
    p = run("label", "-P", cap, "-L", rules, "-W", tmp_path / "out.pcapng", check=False)
    assert p.returncode == 1
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_group_writable_plugins_are_refused(tmp_path, tls_capture):
    cap, _ = tls_capture
    d = tmp_path / "plugins"
    d.mkdir(mode=0o755)
    so = d / "tls_sni.so"
    shutil.copy(plugin("tls_sni"), so)
    os.chmod(so, 0o664)
    rules = write_rules(tmp_path, '[[rule]]\nid = "sni"\nplugin = "tls_sni"\n')
    p = run("label", "-P", cap, "-L", rules, "-W", tmp_path / "out.pcapng", "--plugin", so, check=False)
    assert p.returncode == 1
    assert f"{so} is writable by users other than its owner (chmod go-w {so})" in p.stderr
    os.chmod(so, 0o644)
    assert os.stat(so).st_mode & stat.S_IWGRP == 0
    run("label", "-P", cap, "-L", rules, "-W", tmp_path / "out.pcapng", "--plugin", so)


def replaying_daemon(tmp_path, cap, rules, top, wait_for):
    """A daemon replaying cap as fast as it can, kept running after the replay by an idle live
    source; returns it, its metrics port and output folder once scrape -> wait_for(text) is true."""
    from daemon_util import Daemon, free_port as metrics_port, scrape, write_config

    port, out = metrics_port(), tmp_path / "out"
    cfg = write_config(tmp_path / "d.toml", [{"file": str(cap), "pace": "fast"},
                                             {"interface": "lo", "filter": "udp port 9"}],
                       [rules], out, port=port, top=top)
    d = Daemon(cfg)
    try:
        d.wait_for("ready")
        deadline = time.time() + 10
        while not wait_for(scrape(port)):
            assert time.time() < deadline, scrape(port)
            time.sleep(0.1)
    except BaseException:
        d.stop()
        raise
    return d, port, out


def test_daemon_runs_plugin_rules_and_counts_them(tmp_path):
    from daemon_util import completed_files, metric, scrape

    cap = tmp_path / "dns.pcap"
    write_dns_capture(cap)
    rules = write_rules(tmp_path, '[[rule]]\nid = "names"\nplugin = "dns"\n'
                                  'filter = "udp port 53 or tcp port 443 or udp port 443"\n')
    top = f'[[plugin]]\nname = "dns"\npath = "{plugin("dns")}"\nnames = {{ "*.example.org" = "example-org" }}\n'
    d, port, out = replaying_daemon(
        tmp_path, cap, rules, top, lambda text: metric(text, "pcapml_plugin_packets_total", plugin="dns",
                                                       result="labeled") >= 14)
    try:
        text = scrape(port)
        assert metric(text, "pcapml_plugin_packets_total", plugin="dns", result="no_opinion") == 8
        assert metric(text, "pcapml_plugin_packets_total", plugin="dns", result="error") == 0
        # dns keeps no statistics of its own: no series of theirs.
        assert "pcapml_plugin_counter_total{" not in text and "pcapml_plugin_gauge{" not in text, text
    finally:
        assert d.stop() == 0
    offline, offline_rules = tmp_path / "offline.pcapng", tmp_path / "offline.toml"
    offline_rules.write_text(rules.read_text() + top)  # the same instance, configured in the rules file
    run("label", "-P", cap, "-L", offline_rules, "-W", offline, "--keep-unmatched")
    got = [r[0] for f in completed_files(out) for r in tshark(f, "frame.comment") if r[0]]
    want = [r[0] for r in tshark(offline, "frame.comment") if r[0]]
    assert len(want) == 14
    assert got == want


def test_plugin_statistics_reach_stats_metrics_and_the_stop_line(tmp_path):
    """test_echo_stats counts the IP packets it sees (a counter) and those since
    its last label (a gauge, every = 4): `label --stats` prints them, the daemon
    exports them as pcapml_plugin_counter_total and pcapml_plugin_gauge and logs
    them when it stops. tshark counts the IP packets."""
    from daemon_util import metric, scrape

    cap = tmp_path / "dns.pcap"
    write_dns_capture(cap)
    ip = len(tshark(cap, "frame.number", extra=["-Y", "ip or ipv6"]))
    frames = len(tshark(cap, "frame.number"))
    assert ip >= 8
    so = os.path.join(PLUGINS, "testing", "test_echo_stats.so")
    assert "  statistic pending (gauge): IP packets since the last one labeled (every > 1)" in \
        run("plugins", so).stdout.splitlines()
    rules = write_rules(tmp_path, '[[rule]]\nid = "echo"\nplugin = "test_echo"\n')
    top = f'[[plugin]]\nname = "test_echo"\npath = "{so}"\nevery = 4\n'
    offline_rules = tmp_path / "offline.toml"
    offline_rules.write_text(rules.read_text() + top)
    p = run("label", "-P", cap, "-L", offline_rules, "-W", tmp_path / "offline.pcapng", "--stats")
    lines = p.stderr.splitlines()
    at = lines.index(f"pcapml label: plugin test_echo: {frames} packets in, {ip // 4} labeled, "
                     f"{frames - ip // 4} no opinion, 0 errors, 0 held")
    assert lines[at + 1] == f"pcapml label: plugin test_echo: ip_packets={ip}, pending={ip % 4}", lines

    d, port, out = replaying_daemon(
        tmp_path, cap, rules, top,
        lambda text: metric(text, "pcapml_plugin_counter_total", plugin="test_echo", name="ip_packets") >= ip)
    try:
        time.sleep(0.3)  # a few more publications: nothing more comes
        text = scrape(port)
        assert metric(text, "pcapml_plugin_counter_total", plugin="test_echo", name="ip_packets") == ip
        assert metric(text, "pcapml_plugin_gauge", plugin="test_echo", name="pending") == ip % 4
        assert "# TYPE pcapml_plugin_counter_total counter" in text and "# TYPE pcapml_plugin_gauge gauge" in text
    finally:
        assert d.stop() == 0
    assert f"pcapml daemon: plugin test_echo: {frames} packets in, {ip // 4} labeled, {frames - ip // 4} no " \
        f"opinion, 0 errors, 0 held; ip_packets={ip}, pending={ip % 4}" in d.lines, d.lines


def test_a_plugin_with_a_bad_statistics_table_is_refused(tmp_path):
    so = os.path.join(PLUGINS, "testing", "test_echo_bad_stats.so")
    p = run("plugins", so, check=False)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        f"pcapml: {so}: row 2 of its statistics table is named 'Pending-Packets': names are 1 to 48 of a-z, "
        "0-9 and '_', starting with a letter"], p.stderr


def test_daemon_config_checks_plugin_settings(tmp_path):
    from daemon_util import write_config

    rules = write_rules(tmp_path, '[[rule]]\nid = "sni"\nplugin = "tls_sni"\n')
    top = f'[[plugin]]\nname = "tls_sni"\npath = "{plugin("tls_sni")}"\nmax_conections = 10\n'
    cfg = write_config(tmp_path / "d.toml", [{"interface": "lo"}], [rules], tmp_path / "out", top=top)
    p = run("daemon", "--check-config", cfg, check=False)
    assert p.returncode == 1
    assert f"{cfg}:4: plugin 'tls_sni' has no setting 'max_conections'" in p.stderr, p.stderr
    cfg.write_text(cfg.read_text().replace("max_conections", "max_connections"))
    assert "ok: 1 source(s), 1 rule(s)" in run("daemon", "--check-config", cfg).stdout
    rules.write_text(rules.read_text() + f'[[plugin]]\nname = "dns"\npath = "{plugin("dns")}"\n')
    p = run("daemon", "--check-config", cfg, check=False)
    assert "the daemon takes [[plugin]] tables from its config" in p.stderr, p.stderr


def test_plugins_command_describes_settings_and_refuses_stale_plugins():
    p = run("plugins", plugin("tls_sni"), plugin("dns"), plugin("flow_position"))
    assert p.stdout.startswith("pcapml speaks plugin interface version 2\n")
    for line in ["tls_sni: labels TCP connections by the server name of their TLS ClientHello",
                 '  idle_timeout (duration, default "5m"): forget a connection silent for this long',
                 "dns: labels traffic to and from addresses by the DNS name that resolved to them",
                 "  max_packets (integer, default 0): label only the first N packets of each flow (0: all)"]:
        assert line in p.stdout.splitlines(), p.stdout
    stale = os.path.join(PLUGINS, "testing", "test_echo_v999.so")
    p = run("plugins", stale, check=False)
    assert p.returncode == 1 and "built against plugin API version 999" in p.stderr


def test_the_readme_plugin_builds_loads_and_labels(tmp_path):
    """The complete plugin of README "Writing a plugin", built with its CMake."""
    from conftest import SOURCE

    readme = open(os.path.join(SOURCE, "README.md")).read()
    section = readme.split("## Writing a plugin", 1)[1].split("\n## ", 1)[0]
    code = section.split("```cpp\n", 1)[1].split("```", 1)[0]
    cmake = section.split("```cmake\n", 1)[1].split("```", 1)[0]
    src = tmp_path / "src"
    src.mkdir()
    (src / "payload_prefix.cc").write_text(code)
    (src / "CMakeLists.txt").write_text(cmake)
    build = tmp_path / "build"
    for cmd in (["cmake", "-S", src, "-B", build, f"-DPCAPML_INCLUDE_DIR={SOURCE}/plugins"],
                ["cmake", "--build", build]):
        p = subprocess.run(cmd, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    so = build / "payload_prefix.so"
    assert "prefix (string, default \"GET \"): the bytes a payload must start with" in run("plugins", so).stdout

    from scapy.all import IP, TCP, Ether, wrpcap
    payloads = [b"POST /upload HTTP/1.1\r\n", b"GET / HTTP/1.1\r\n", b"", b"POST"]
    wrpcap(str(tmp_path / "http.pcap"), [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") /
                                         TCP(sport=40000, dport=80, flags="PA") / p for p in payloads])
    rules = write_rules(tmp_path, f"""[[rule]]
id = "requests"
plugin = "payload_prefix"
filter = "tcp port 80"

[[plugin]]
name = "payload_prefix"
path = "{so}"
prefix = "POST "
label = "upload"
""")
    out = tmp_path / "out.pcapng"
    p = run("label", "-P", tmp_path / "http.pcap", "-L", rules, "-W", out, "--keep-unmatched", "--stats")
    labels = [r[0].split(",", 1)[1] if r[0] else "" for r in tshark(out, "frame.comment")]
    assert labels == ["upload", "", "", ""]
    # Its statistic, as the README shows it: "" and "POST" are shorter than "POST ".
    lines = p.stderr.splitlines()
    at = lines.index("pcapml label: plugin payload_prefix: 4 packets in, 1 labeled, 3 no opinion, 0 errors, 0 held")
    assert lines[at + 1] == "pcapml label: plugin payload_prefix: too_short=2", lines
    assert "  statistic too_short (counter): packets whose payload is shorter than the prefix" in \
        run("plugins", so).stdout.splitlines()
