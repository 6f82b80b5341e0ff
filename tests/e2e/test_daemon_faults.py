"""Faults the daemon must survive: a full disk (a small tmpfs the test
mounts), the output directory removed mid-run, an interface that goes down
and comes back, SIGKILL mid-run."""
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BIN, tshark
from daemon_util import Daemon, completed_files, free_port, metric, scrape, tmpfs, write_config
from test_daemon import assert_clean_files, veth, wait_metric  # noqa: F401  (fixture)


@pytest.fixture
def small_disk(tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as mnt:
        yield mnt


def rules_file(tmp_path):
    r = tmp_path / "rules.csv"
    r.write_text("BPF:udp,traffic\n")
    return r


def test_disk_full_drops_counts_and_resumes(tmp_path, veth, small_disk):
    port = free_port()
    out = small_disk / "out"
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [rules_file(tmp_path)], out, port=port,
                       output_extra='rotate_bytes = "100KiB"')
    d = Daemon(cfg)
    d.wait_for("ready")
    veth.send_udp(5000, 3000, payload=b"x" * 1000)  # ~3 MB into a 1 MB disk
    text = wait_metric(port, "pcapml_packets_dropped_total", 1, source="output", reason="output")
    d.wait_for("output: .*No space left")
    veth.send_udp(5000, 2500, payload=b"z" * 1000, gap=0.001)  # the failure goes on: >2 s of retries
    assert d.proc.poll() is None
    dropped = metric(text, "pcapml_packets_dropped_total", source="output", reason="output")
    # Space returns: writing resumes. Count what the removed files held.
    removed = 0
    for f in completed_files(out):
        removed += len(tshark(f, "frame.number"))
        os.remove(f)
    written = metric(scrape(port), "pcapml_packets_written_total")
    time.sleep(1.2)
    veth.send_udp(5000, 300, payload=b"y" * 100, gap=0.01)  # 3 s: the end of the failure is logged after 2 s
    wait_metric(port, "pcapml_packets_written_total", written + 300)
    d.wait_for("writing again")
    assert d.stop() == 0
    assert_clean_files(out)
    # The counters agree with the files: every packet counted as written is in one.
    c = final_counts(d)
    assert c["written"] == removed + packets_in(completed_files(out))
    assert c["written"] + c["output"] == c["received"]
    assert dropped > 0
    assert_one_failure_episode(d, c, "No space left")


def assert_one_failure_episode(d, c, why):
    """One line when writing fails, one when it works again with the packets dropped meanwhile."""
    failed = [l for l in d.lines if "dropping packets until writing works again" in l]
    assert len(failed) == 1 and why in failed[0], failed
    resumed = [re.search(r"output: writing again; (\d+) packets dropped in the [\d.]+ s it failed", l)
               for l in d.lines if "writing again" in l]
    assert len(resumed) == 1 and resumed[0] and int(resumed[0].group(1)) == c["output"], (resumed, c)


def final_counts(d):
    line = next(l for l in d.lines if "stopped:" in l)
    m = re.search(r"stopped: (\d+) packets written, (\d+) unmatched, (\d+) received, (\d+) dropped by the kernel, "
                  r"(\d+) dropped at output", line)
    return dict(zip(["written", "unmatched", "received", "kernel", "output"], map(int, m.groups())))


def packets_in(files):
    return sum(len(tshark(f, "frame.number")) for f in files)


def test_output_directory_removed_then_back(tmp_path, veth):
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [rules_file(tmp_path)], out,
                       output_extra="rotate_packets = 10")
    d = Daemon(cfg)
    d.wait_for("ready")
    veth.send_udp(5000, 25)
    time.sleep(0.5)
    kept = packets_in(completed_files(out))
    assert kept >= 20  # 25 datagrams and this host's ARP and ICMP answers, 10 per file
    shutil.rmtree(out)
    veth.send_udp(5000, 30)
    d.wait_for("output: .*(No such file|cannot)")
    assert d.proc.poll() is None
    out.mkdir()
    time.sleep(1.2)
    veth.send_udp(5000, 300, gap=0.01)
    d.wait_for("writing again")
    assert d.stop() == 0
    c = final_counts(d)
    assert c["output"] > 0
    assert c["written"] == kept + packets_in(completed_files(out))
    assert c["written"] + c["output"] == c["received"]  # unmatched are kept: nothing else is lost
    assert_clean_files(out)
    assert_one_failure_episode(d, c, "No such file")


def test_read_only_output_directory(tmp_path, veth):
    top = tempfile.mkdtemp(prefix="pcapml-ro-")
    os.chmod(top, 0o755)
    out = os.path.join(top, "out")
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [rules_file(tmp_path)], out,
                       output_extra="rotate_packets = 10", top='user = "nobody"')
    d = Daemon(cfg)
    d.wait_for("ready")
    veth.send_udp(5000, 10)
    time.sleep(0.3)
    os.chmod(out, 0o555)  # the daemon runs as nobody: it can no longer create or rename files
    veth.send_udp(5000, 20)
    d.wait_for("output: .*Permission denied")
    os.chmod(out, 0o755)
    time.sleep(1.2)
    veth.send_udp(5000, 300, gap=0.01)
    d.wait_for("writing again")
    assert d.stop() == 0
    c = final_counts(d)
    assert c["output"] > 0 and c["written"] == packets_in(completed_files(out))
    assert c["written"] + c["output"] == c["received"]
    assert_clean_files(out)
    assert_one_failure_episode(d, c, "Permission denied")
    shutil.rmtree(top)


def test_interface_down_and_back(tmp_path, veth):
    port = free_port()
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [rules_file(tmp_path)], out, port=port)
    d = Daemon(cfg)
    d.wait_for("ready")
    veth.send_udp(5000, 10)
    wait_metric(port, "pcapml_packets_received_total", 10, source=veth.outside)
    subprocess.run(["ip", "link", "set", veth.outside, "down"], check=True)
    d.wait_for(f"interface {veth.outside}")
    subprocess.run(["ip", "link", "set", veth.outside, "up"], check=True)
    wait_metric(port, "pcapml_source_reopened_total", 1, source=veth.outside)
    time.sleep(0.5)
    veth.send_udp(5000, 10)
    wait_metric(port, "pcapml_packets_received_total", 20, source=veth.outside)
    assert d.stop() == 0
    labels = [c for c in (r[0] for f in completed_files(out) for r in tshark(f, "frame.comment")) if c.endswith(",traffic")]
    assert len(labels) == 20


def test_sigkill_leaves_only_whole_files(tmp_path):
    big = tmp_path / "big.pcap"
    subprocess.run([os.path.join(os.path.dirname(BIN), "bench", "make_capture"), str(big), "2MiB", "100"],
                   check=True, capture_output=True)
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:tcp,tcp\nBPF:udp,udp\n")
    rng = random.Random(7)
    for i in range(5):
        out = tmp_path / f"out{i}"
        # ~2,800 packets 1 us apart, replayed at 1/4000 speed: about 11 s.
        cfg = write_config(tmp_path / "d.toml", [{"file": str(big), "pace": "recorded", "speed": 0.00025}], [rules],
                           out, output_extra="rotate_packets = 100\nfsync = false")
        d = Daemon(cfg)
        d.wait_for("ready")
        time.sleep(rng.uniform(0.5, 3.0))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        for f in completed_files(out):  # every file under a final name is whole
            p = subprocess.run(["tshark", "-n", "-r", f, "-T", "fields", "-e", "frame.number"],
                               capture_output=True, text=True)
            warnings = [l for l in p.stderr.splitlines() if not l.startswith("Running as user")]
            assert p.returncode == 0 and not warnings, (f, p.stderr)
            assert len(p.stdout.splitlines()) == 100


def test_reload_storm_while_capturing(tmp_path, veth):
    port = free_port()
    out = tmp_path / "out"
    rules = rules_file(tmp_path)
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside}], [rules], out, port=port)
    d = Daemon(cfg)
    d.wait_for("ready")
    sender = subprocess.Popen(["ip", "netns", "exec", veth.ns, "/usr/bin/python3", "-c",
                               f"import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                               f"for i in range(3000):\n s.sendto(b'x'*200,('{veth.out_addr}',5000))\n"
                               f" time.sleep(0.0005)\n"])
    for _ in range(100):
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.01)
    sender.wait(60)
    wait_metric(port, "pcapml_config_reloads_total", 1, result="success")
    time.sleep(1.0)
    assert d.proc.poll() is None
    assert d.stop() == 0
    c = final_counts(d)
    labels = [r[0] for f in completed_files(out) for r in tshark(f, "frame.comment")]
    assert sum(1 for l in labels if l.endswith(",traffic")) + c["kernel"] >= 3000
    assert c["written"] == len(labels)
    assert c["written"] + c["output"] == c["received"]
    assert sum(1 for l in d.lines if "rules reloaded" in l) >= 50
