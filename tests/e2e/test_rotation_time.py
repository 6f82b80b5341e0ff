"""Issue 18: rotation by time keeps its boundaries under load. trafgen
(netsniff-ng) sends at its top speed from a namespace into the captured
veth end for several periods of rotate_seconds; every file holds only
packets stamped inside its own period [k*P, (k+1)*P) (the period its name
starts with), the files follow one another in time without overlapping,
and every packet that arrived is written or counted as dropped."""
import calendar
import os
import re
import subprocess
import time
from decimal import Decimal

from daemon_util import Daemon, completed_files, write_config
from test_daemon import veth  # noqa: F401  (fixture)
from test_daemon_faults import final_counts
from test_daemon_stop import end, link_stat, rules, trafgen

PERIOD = 1  # rotate_seconds
SENDING = 4.5  # seconds of traffic: at least three whole periods


def period_start(path):
    """The UTC start time in <prefix>-<YYYYmmddTHHMMSSZ>-<seq>.pcapng, in epoch seconds."""
    stamp = re.search(r"-(\d{8}T\d{6})Z-\d+\.pcapng$", path).group(1)
    return calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%S"))


def file_times(path):
    """(packets, earliest, latest) of a file, read by Wireshark's capinfos: an error fails. Not whether
    it is in time order: the kernel itself stamps a few packets of a veth under load out of order
    (seen: one step back of 301 ns in 382,853 packets), and the daemon keeps capture order."""
    p = subprocess.run(["capinfos", "-T", "-r", "-N", "-c", "-a", "-e", "-o", "-S", path], capture_output=True, text=True)
    assert p.returncode == 0 and not p.stderr, (path, p.stderr)
    _, count, first, last, _ = p.stdout.rstrip("\n").split("\t")
    return int(count), Decimal(first), Decimal(last)


def test_time_rotation_keeps_its_boundaries_at_top_speed(tmp_path, veth):
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "d.toml", [{"interface": veth.outside, "buffer": "64MiB", "filter": "inbound"}],
                       [rules(tmp_path)], out, output_extra=f"rotate_seconds = {PERIOD}\nfsync = false")
    d = Daemon(cfg)
    d.wait_for("ready")
    rx0 = link_stat(veth.outside, "rx_packets")
    tx0 = link_stat(veth.inside, "tx_packets", veth.ns)
    sender = trafgen(veth, tmp_path)
    try:
        time.sleep(SENDING)
        assert sender.poll() is None, sender.stderr.read()
    finally:
        end(sender)
    time.sleep(0.5)  # what the veth still held has arrived
    rx = link_stat(veth.outside, "rx_packets") - rx0
    tx = link_stat(veth.inside, "tx_packets", veth.ns) - tx0
    assert d.stop() == 0, d.lines
    assert rx == tx

    files = completed_files(out)
    assert not [f for f in os.listdir(out) if f.endswith(".partial")]
    assert len(files) >= 4, files  # three boundaries crossed at least
    previous_start, previous_last, in_files = None, None, 0
    for f in files:
        count, first, last = file_times(f)
        start = period_start(f)
        assert start % PERIOD == 0, f
        assert count > 0, f
        # Every packet stamped inside the file's period (the earliest and the latest bound them).
        assert start <= first and last < start + PERIOD, (f, first, last)
        if previous_start is not None:
            assert start > previous_start, (f, "two files of one period")
            assert first > previous_last, (f, "overlaps the file before it")
        previous_start, previous_last = start, last
        in_files += count
    assert not [l for l in d.lines if "stamped before its period" in l], d.lines

    c = final_counts(d)
    unread = int(re.search(r"(\d+) left unread", next(l for l in d.lines if "stopped:" in l)).group(1))
    assert in_files == c["written"] == c["received"]
    assert c["written"] + c["kernel"] + unread == rx, (c, unread, rx)
    print(f"{len(files)} files of {PERIOD} s: {tx} sent in {SENDING} s, {c['written']} written, "
          f"{c['kernel']} kernel drops, {unread} unread")
