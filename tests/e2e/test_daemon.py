"""Issue 5 end to end: the daemon replaying files and capturing live on veth
pairs in namespaces the test creates, checked with tshark, metrics scraped
over HTTP and checked with promtool."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import BIN, SOURCE, run, sample_id, tshark
from daemon_util import Daemon, Veth, completed_files, free_port, metric, scrape, write_config

TRACE = os.path.join(SOURCE, "config", "sample", "trace.pcap")
RULES = os.path.join(SOURCE, "config", "sample", "metadata.csv")


def comments(files):
    out = []
    for f in files:
        out += [r[0] for r in tshark(f, "frame.comment")]
    return out


def assert_clean_files(outdir):
    """Every file under a final name opens in tshark without a warning; no partial file is left."""
    assert not [f for f in os.listdir(outdir) if f.endswith(".partial")]
    for f in completed_files(outdir):
        p = subprocess.run(["tshark", "-n", "-r", f], capture_output=True, text=True)
        warnings = [l for l in p.stderr.splitlines() if not l.startswith("Running as user")]
        assert p.returncode == 0 and not warnings, (f, p.stderr)


@pytest.fixture
def veth():
    v = Veth(7)
    for side in ("outside", "inside"):  # no IPv6 neighbour discovery noise
        dev = getattr(v, side)
        cmd = ["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"]
        (v.ns_exec(*cmd) if side == "inside" else subprocess.run(cmd, check=True))
    v.ns_exec("ip", "neigh", "replace", v.out_addr, "lladdr", "02:00:00:00:00:01", "dev", v.inside)
    subprocess.run(["ip", "link", "set", v.outside, "address", "02:00:00:00:00:01"], check=True)
    yield v
    v.close()


def test_replay_fast_gives_the_offline_labels(tmp_path):
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE, "pace": "fast"}], [RULES], out,
                       output_extra="rotate_packets = 10")
    d = Daemon(cfg)
    assert d.proc.wait(30) == 0
    offline = tmp_path / "offline.pcapng"
    run("-P", TRACE, "-L", RULES, "-W", offline, "--keep-unmatched")
    files = completed_files(out)
    assert len(files) == 6  # 52 packets, 10 per file
    assert comments(files) == comments([offline])
    got = [r for f in files for r in tshark(f, "frame.time_epoch", "frame.len")]
    assert got == tshark(offline, "frame.time_epoch", "frame.len")
    assert_clean_files(out)


def test_rotation_by_bytes_max_files_and_post_rotate(tmp_path):
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE}], [RULES], out,
                       output_extra='rotate_bytes = "8KiB"\npost_rotate = "/usr/bin/touch {path}.shipped"')
    assert Daemon(cfg).proc.wait(30) == 0
    files = completed_files(out)
    assert len(files) >= 4
    for f in files[:-1]:
        size = os.path.getsize(f)
        assert 8192 <= size < 8192 + 1600, (f, size)
    assert sum(len(tshark(f, "frame.number")) for f in files) == 52
    time.sleep(0.5)
    assert all(os.path.exists(f + ".shipped") for f in files)
    assert_clean_files(out)
    # A ring of two: only the newest two files stay.
    shutil.rmtree(out)
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE}], [RULES], out, output_extra="rotate_packets = 5\nmax_files = 2")
    assert Daemon(cfg).proc.wait(30) == 0
    files = completed_files(out)
    assert len(files) == 2 and files[-1].endswith("-000011.pcapng")


def test_recorded_pace_keeps_the_gaps_within_5_percent(tmp_path):
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE, "pace": "recorded", "speed": 2.0}], [RULES],
                       tmp_path / "out")
    d = Daemon(cfg)
    assert d.proc.wait(30) == 0
    d.stop()
    line = next(l for l in d.lines if "replayed" in l)
    span, took = map(float, re.search(r"spanning ([\d.]+) s in ([\d.]+) s", line).groups())
    assert span == pytest.approx(3.7, abs=0.01)
    assert took == pytest.approx(span / 2, rel=0.05), line


def test_check_config_names_file_line_and_key(tmp_path):
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE}], [RULES], tmp_path / "out")
    assert "ok: 1 source(s), 6 rule(s)" in run("daemon", "--check-config", cfg).stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(cfg.read_text().replace('prefix = "t"', 'prefix = "t"\nrotate_sizes = 5'))
    p = run("daemon", "--check-config", bad, check=False)
    line_no = bad.read_text().splitlines().index("rotate_sizes = 5") + 1
    assert p.returncode == 1 and f"{bad}:{line_no}:" in p.stderr and "rotate_sizes" in p.stderr
    bad.write_text(cfg.read_text().replace('[rules]', '[[source]]\npace = "slow"\nfile = "x"\n[rules]'))
    p = run("daemon", "--check-config", bad, check=False)
    assert p.returncode == 1 and "pace" in p.stderr
    bad.write_text(cfg.read_text().replace(RULES, str(tmp_path / "missing.csv")))
    p = run("daemon", "--config", bad, check=False)
    assert p.returncode == 1 and "missing.csv" in p.stderr
    # Numbers out of their type or range: one error line naming the key (a float
    # snaplen once reached an unchecked float-to-integer cast; fuzz_daemon_config).
    for key, value in [("snaplen", "1.48e76"), ("snaplen", "1.5"), ("speed", "inf"), ("speed", "nan"),
                       ("speed", "-1.0")]:
        bad.write_text(cfg.read_text().replace("[rules]", f"{key} = {value}\n[rules]", 1))
        line_no = bad.read_text().splitlines().index(f"{key} = {value}") + 1
        p = run("daemon", "--check-config", bad, check=False)
        assert p.returncode == 1 and p.stderr.startswith(f"pcapml: {bad}:{line_no}:") and key in p.stderr, \
            (key, value, p.stderr)
        assert len(p.stderr.splitlines()) == 1, p.stderr


def wait_metric(port, name, at_least, timeout=10, **labels):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = scrape(port)
        if metric(text, name, **labels) >= at_least:
            return text
        time.sleep(0.1)
    raise AssertionError(f"{name}{labels} never reached {at_least}: {metric(text, name, **labels)}")


def test_live_capture_labels_metrics_and_drain(tmp_path, veth):
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:udp port 5000,five\nBPF:udp port 6000,six\n")
    port, out = free_port(), tmp_path / "out"
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside, "buffer": "8MiB"}], [rules], out, port=port)
    d = Daemon(cfg)
    d.wait_for("ready")
    veth.send_udp(5000, 50)
    veth.send_udp(6000, 30)
    veth.send_udp(7000, 20)
    text = wait_metric(port, "pcapml_packets_received_total", 100, source=veth.outside)
    time.sleep(0.3)
    text = scrape(port)
    promtool = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert promtool.returncode == 0, promtool.stdout + promtool.stderr
    assert metric(text, "pcapml_build_info", version=run("--version").stdout.split()[1]) == 1
    assert metric(text, "pcapml_rules_loaded") == 2
    assert metric(text, "pcapml_packets_written_total") >= 100
    # 1000 more right before SIGTERM: draining must still write every one.
    veth.send_udp(5000, 1000, gap=0)
    assert d.stop() == 0
    files = completed_files(out)
    labels = [c.split(",", 1)[1] if c else "" for c in comments(files)]
    assert labels.count("five") == 1050 and labels.count("six") == 30
    # The final counters agree with the files. Unmatched: port 7000, and ARP
    # and ICMP port-unreachable replies of this host (rate-limited, so counted).
    final = next(l for l in d.lines if "stopped:" in l)
    written, unmatched = map(int, re.search(r"stopped: (\d+) packets written, (\d+) unmatched", final).groups())
    assert written == len(labels) and labels.count("") == unmatched >= 20
    five = {c.split(",")[0] for c in comments(files) if c.endswith(",five")}
    assert five == {str(sample_id("BPF:udp port 5000,five"))}
    assert_clean_files(out)


def test_sighup_reload_good_and_bad(tmp_path, veth):
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:udp port 5000,before\n")
    port, out = free_port(), tmp_path / "out"
    d = Daemon(write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [rules], out, port=port))
    d.wait_for("ready")
    veth.send_udp(5000, 10)
    wait_metric(port, "pcapml_packets_written_total", 10)
    rules.write_text("BPF:udp port 5000,after\n")
    d.proc.send_signal(1)
    d.wait_for("rules reloaded")
    veth.send_udp(5000, 10)
    rules.write_text("BPF:udp port,broken\n")
    d.proc.send_signal(1)
    d.wait_for("reload failed, keeping the 1 rule")
    veth.send_udp(5000, 10)
    text = wait_metric(port, "pcapml_packets_written_total", 30)
    assert metric(text, "pcapml_config_reloads_total", result="success") == 1
    assert metric(text, "pcapml_config_reloads_total", result="failure") == 1
    assert d.stop() == 0
    labels = [c.split(",", 1)[1] for c in comments(completed_files(out)) if c]
    assert labels.count("before") == 10 and labels.count("after") == 20


def ctl(sock, *args, check=True):
    return run("ctl", "--socket", sock, *args, check=check)


def test_control_socket_run_time_rules(tmp_path, veth):
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:udp,file-rule\n")
    sock, out = tmp_path / "ctl.sock", tmp_path / "out"
    d = Daemon(write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [rules], out, control=sock))
    d.wait_for("ready")
    assert oct(os.stat(sock).st_mode & 0o777) == "0o660"
    veth.send_udp(7000, 5)  # before the rule: file rule
    time.sleep(0.2)
    p = ctl(sock, "add", "--id", "run-3", "--label", "youtube", "--filter", "udp port 7000")
    assert f"sample_id={sample_id('run-3')}" in p.stdout
    assert ctl(sock, "add", "--id", "run-3", "--label", "x", check=False).returncode == 1
    bad = ctl(sock, "add", "--id", "bad", "--label", "x", "--filter", "udp port", check=False)
    assert bad.returncode == 1 and "invalid BPF filter 'udp port'" in bad.stderr
    veth.send_udp(7000, 10)
    veth.send_udp(7001, 3)  # not the run-time rule's: file rule
    time.sleep(0.3)
    listed = ctl(sock, "list").stdout
    assert re.search(r"^run-3\tyoutube\tudp port 7000\trule\tsince=\S+\tpackets=10$", listed, re.M), listed
    assert "packets=10" in ctl(sock, "end", "run-3").stdout
    veth.send_udp(7000, 4)  # after the end: file rule again
    time.sleep(0.3)
    assert "run-3" not in ctl(sock, "list").stdout
    assert "written=" in ctl(sock, "status").stdout
    # Garbage, an over-long line and a client that leaves mid-message.
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(b"\x00\xffbogus\n")
        assert s.recv(200).startswith(b"error unknown request")
        s.sendall(b"status\n")
        assert b"ok\n" in s.recv(4096)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(b"a" * 5000)
        assert b"error request longer" in s.recv(200)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(b"add\tid=half")
    assert "written=" in ctl(sock, "status").stdout
    assert d.stop() == 0
    labels = [c.split(",", 1)[1] for c in comments(completed_files(out)) if c]
    assert labels.count("youtube") == 10
    assert labels.count("file-rule") == 5 + 3 + 4
    assert not os.path.exists(sock)


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    unit = open(os.path.join(os.path.dirname(BIN), "systemd", "pcapml.service")).read()
    unit = re.sub(r"ExecStart=\S+", f"ExecStart={BIN}", unit)
    path = tmp_path / "pcapml.service"
    path.write_text(unit)
    p = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", str(path)], capture_output=True, text=True)
    score = float(re.search(r"Overall exposure level for pcapml.service: ([\d.]+)", p.stdout).group(1))
    assert score <= 2.0, p.stdout[-2000:]
    for want in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN",
                 "StateDirectory=pcapml", "RuntimeDirectory=pcapml", "User=pcapml"):
        assert want in unit


def test_run_sh_end_to_end():
    # With the config's metrics port taken, run.sh moves to a free one (--metrics-listen).
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", 9431))
        blocker.listen()
    except OSError:
        pass  # taken already: the same case
    with blocker:
        p = subprocess.run([os.path.join(SOURCE, "run.sh")], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "pcapml_packets_received_total" in p.stdout and "results: out/daemon/" in p.stdout
    assert re.search(r"--metrics-listen 127\.0\.0\.1:(?!9431\b)\d+", p.stdout), p.stdout
    files = completed_files(os.path.join(SOURCE, "out", "daemon"))
    assert len(files) == 3 and len(comments(files)) == 52
    assert re.search(r"^TOTAL +6 +52 ", p.stdout, re.M), p.stdout  # the three files summed up
    svg = ET.parse(os.path.join(SOURCE, "out", "timeline.svg")).getroot()
    series = [e for e in svg.iter("{http://www.w3.org/2000/svg}path") if e.get("class") == "series"]
    assert sum(int(e.get("data-packets")) for e in series) == 52 and len(series) == 6


def test_sd_notify_ready_reloading_stopping(tmp_path):
    """The daemon speaks the systemd notify protocol (Type=notify)."""
    sock_path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(sock_path)
        s.settimeout(10)
        cfg = write_config(tmp_path / "d.toml", [{"file": TRACE, "pace": "recorded", "speed": 0.5}], [RULES],
                           tmp_path / "out")
        d = Daemon(cfg, env=dict(os.environ, NOTIFY_SOCKET=sock_path))
        assert s.recv(256) == b"READY=1"
        d.proc.send_signal(1)
        assert s.recv(256) == b"RELOADING=1"
        assert s.recv(256) == b"READY=1"
        assert d.stop() == 0
        assert s.recv(256) == b"STOPPING=1"


def test_drops_privileges_after_opening_captures(tmp_path, veth):
    top = tempfile.mkdtemp(prefix="pcapml-priv-")  # tmp_path's parents are closed to other users
    os.chmod(top, 0o755)
    out = os.path.join(top, "out")
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [RULES], out, top='user = "nobody"')
    env = {k: v for k, v in os.environ.items() if k != "INVOCATION_ID"}
    d = Daemon(cfg, env=env)
    d.wait_for("ready")
    status = open(f"/proc/{d.proc.pid}/status").read()
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
    nobody = int(subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout)
    assert {int(u) for u in uids} == {nobody}
    veth.send_udp(5000, 5)
    time.sleep(0.3)
    assert d.stop() == 0
    files = completed_files(out)
    assert files and all(os.stat(f).st_uid == nobody for f in files), d.lines
    shutil.rmtree(top)
