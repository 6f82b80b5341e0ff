"""What the daemon promises about stopping, crashing and counting (issue 19):
SIGTERM stops capture at once under any traffic and exits within a bounded
time; a second signal exits at once; a .partial left by SIGKILL is completed
at the next start; every packet that reached the capture interface is
written or counted. Traffic comes from trafgen (netsniff-ng) or a Python
sender inside a namespace on a veth pair; tshark reads every file."""
import os
import re
import signal
import struct
import subprocess
import time

import pytest

from conftest import BIN, run, tshark
from daemon_util import Daemon, completed_files, free_port, metric, scrape, write_config
from test_daemon import assert_clean_files, veth, wait_metric  # noqa: F401  (fixture)
from test_daemon_faults import final_counts

# A UDP datagram (60-byte IP packet) from the inside address to the outside
# one, to a MAC nobody has: the host's stack ignores it (no replies to count),
# the promiscuous capture sees it.
FRAME = ("{ 0x02,0,0,0,0,0x99, 0x02,0,0,0,0,0x02, c16(0x0800), 0x45,0, c16(60), c16(0), c16(0), 64, 17, "
         "csumip(14,33), 198,18,7,2, 198,18,7,1, c16(4000), c16(5000), c16(40), c16(0), fill(0x41,32) }\n")


def rules(tmp_path):
    r = tmp_path / "rules.csv"
    r.write_text("BPF:udp,traffic\n")
    return r


def trafgen(v, tmp_path, count=0, rate=None):
    """trafgen on the inside end: count packets (0: until stopped), at rate pps (None: top speed)."""
    cfg = tmp_path / "frame.trafgen"
    cfg.write_text(FRAME)
    cmd = ["ip", "netns", "exec", v.ns, "trafgen", "-o", v.inside, "-i", str(cfg), "-P", "1", "-q", "--no-sock-mem", "-Q", "-C",
           "-n", str(count)]
    if rate:
        cmd += ["-b", f"{rate}pps"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def link_stat(dev, name, ns=None):
    cmd = ["cat", f"/sys/class/net/{dev}/statistics/{name}"]
    return int(subprocess.run((["ip", "netns", "exec", ns] if ns else []) + cmd, capture_output=True, text=True,
                              check=True).stdout)


def last_packet_time(files):
    return max((float(r[0]) for f in files for r in tshark(f, "frame.time_epoch")), default=0.0)


def capinfos(files):
    """Packets in files, read to their end by Wireshark's file reader (tshark's, without dissection:
    hundreds of thousands of packets in a fraction of a second); any error fails."""
    total = 0
    for f in files:
        p = subprocess.run(["capinfos", "-c", "-M", f], capture_output=True, text=True)
        assert p.returncode == 0 and not p.stderr, (f, p.stderr)
        total += int(re.search(r"Number of packets:\s+(\d+)", p.stdout).group(1))
    return total


def stop_config(tmp_path, v, port=None, buffer="8MiB", extra="rotate_packets = 20000\nfsync = false", filter=None):
    source = {"interface": v.outside, "buffer": buffer}
    if filter:
        source["filter"] = filter
    return write_config(tmp_path / "d.toml", [source], [rules(tmp_path)], tmp_path / "out", port=port,
                        output_extra=extra)


def test_two_sources_on_one_interface_are_a_config_error(tmp_path):
    cfg = tmp_path / "d.toml"
    cfg.write_text('[[source]]\ninterface = "lo"\n\n[[source]]\nfile = "x.pcap"\n\n'
                   '[[source]]\ninterface = "lo"\nbuffer = "8MiB"\n')
    for args in (["--check-config", cfg], ["--config", cfg]):
        p = run("daemon", *args, check=False)
        assert p.returncode != 0
        assert p.stderr.strip().endswith(f"{cfg}:7: source 3: interface lo is already captured by source 1 (line 1): "
                                         "every packet would be written twice"), p.stderr
    # Another capture filter on the same interface is allowed.
    cfg.write_text('[[source]]\ninterface = "lo"\nfilter = "tcp"\n[[source]]\ninterface = "lo"\nfilter = "udp"\n')
    assert "2 source(s)" in run("daemon", "--check-config", cfg).stdout
