"""Issue 18, merge: pcapml merge of a daemon's rotated files, of two sensors'
files, and of 1,000 small files of every format through more passes than
--max-open allows at once, checked packet by packet with tshark. Runs the
daemon on file sources (no network): run under /tmp/pcapml-e2e.lock."""
import hashlib
import os
import random
import resource
import struct
import subprocess
from decimal import Decimal

import pytest

from conftest import BIN, run, sample_id, tshark
from daemon_util import Daemon, completed_files, write_config

FIELDS = ("frame.time_epoch", "frame.len", "frame.cap_len", "frame.encap_type", "frame.interface_name",
          "frame.interface_description", "frame.comment", "frame.md5_hash")
RULES = """
[[rule]]
id = "v6"
label = "ipv6"
filter = "ip6"

[[rule]]
id = "web"
label = "web"
filter = "tcp"

[[rule]]
id = "dgram"
label = "udp"
filter = "udp"
"""


def frames(path, *more):
    """tshark's view of every frame: time as a Decimal, then the other fields."""
    out = []
    for r in tshark(path, *FIELDS, *more, extra=["-o", "frame.generate_md5_hash:TRUE"]):
        out.append([Decimal(r[0])] + r[1:])
    return out


def in_time_order(paths, tmp_path):
    """The inputs' frames as tshark reads them, stably sorted by time: equal
    times keep input order. pcapng files concatenate into one multi-section
    file, so tshark reads them all in one run. A daemon's file says its
    sensor in its section comment, which merge turns into the interface's
    description: that is what the merged file must say."""
    cat = tmp_path / "inputs-concatenated.pcapng"
    sensors = []
    with open(cat, "wb") as out:
        for p in paths:
            out.write(open(p, "rb").read())
            sensors.append("sensor " + os.path.basename(os.path.dirname(p)))  # the daemon's output directory
    rows = []
    for r in frames(cat, "frame.section_number"):
        rows.append(r[:5] + [r[5] or sensors[int(r[-1]) - 1]] + r[6:-1])
    return sorted(rows, key=lambda r: r[0])


def run_daemon(tmp_path, sensor, capture, rotate_packets):
    outdir = tmp_path / sensor
    outdir.mkdir()
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    config = write_config(tmp_path / f"{sensor}.toml", [{"file": str(capture), "pace": "fast"}], [rules], outdir,
                          output_extra=f"rotate_packets = {rotate_packets}", top=f'sensor_id = "{sensor}"')
    d = Daemon(config)
    assert d.proc.wait(60) == 0, d.lines  # file sources: it exits when they end
    return completed_files(outdir)


@pytest.fixture(scope="module")
def sensors(tmp_path_factory):
    """One capture replayed by two daemons: 'east' rotating every 28 packets
    (100 files), 'west' every 500 (6 files)."""
    tmp = tmp_path_factory.mktemp("sensors")
    capture = tmp / "in.pcap"
    subprocess.run([os.path.join(os.path.dirname(BIN), "bench", "make_capture"), str(capture), "2MiB", "100"],
                   check=True, capture_output=True)
    return tmp, run_daemon(tmp, "east", capture, 28), run_daemon(tmp, "west", capture, 500)


def test_hundred_rotated_daemon_files_merge_into_their_packets_in_time_order(sensors, tmp_path):
    _, east, _ = sensors
    assert len(east) >= 100
    shuffled = list(east)
    random.Random(18).shuffle(shuffled)  # any order on the command line: time decides
    out = tmp_path / "merged.pcapng"
    p = run("merge", "-W", out, *shuffled, "--stats")
    want = in_time_order(east, tmp_path)
    got = frames(out)
    assert len(got) == len(want) == 2795
    assert got == want
    assert all(r[5] == "sensor east" for r in got)
    assert "2795 packets, 1 interfaces, 1 passes" in p.stderr
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial") or "pcapml-merge" in f]


def test_two_sensors_keep_their_sample_ids_apart(sensors, tmp_path):
    _, east, west = sensors
    out = tmp_path / "fleet.pcapng"
    # The seed's flag form; west first, so at equal times its packet comes first.
    run("-M", *west, *east, "-W", out)
    got = frames(out)
    want = in_time_order(west + east, tmp_path)
    assert len(got) == 2 * 2795
    assert got == want
    assert [r[5] for r in got[:2]] == ["sensor west", "sensor east"]  # the same packet, seen by both
    ids = {"sensor east": set(), "sensor west": set()}
    for r in got:
        sid, label = r[6].split(",")[:2]
        ids[r[5]].add((int(sid), label))
    # Same rules, same traffic: every sample ID is its sensor's, by construction.
    rule_of = {"ipv6": "v6", "web": "web", "udp": "dgram"}
    for sensor, seen in ids.items():
        name = sensor.split()[1]
        assert seen == {(sample_id(f"{name}/{rule_of[label]}"), label) for _, label in seen}
        assert len(seen) == 3
    assert not {s for s, _ in ids["sensor east"]} & {s for s, _ in ids["sensor west"]}


# 1,000 small files of every input format, written here byte by byte.
T0 = 1_700_000_000_000_000_000


def packet_bytes(k):
    return bytes((k * 7 + j) & 0xFF for j in range(14 + k % 50))


def pcapng(packets, big, tsresol_exp, ifname, link_type):
    e = ">" if big else "<"
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        return struct.pack(e + "II", btype, len(body) + 12) + body + struct.pack(e + "I", len(body) + 12)
    def opt(code, value):
        return struct.pack(e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)
    out = block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack(e + "HHI", link_type, 0, 65535) + opt(2, ifname.encode()) +
                 opt(9, bytes([tsresol_exp])) + opt(0, b""))
    for ts, data, comments in packets:
        units = (ts - T0) // 10 ** (9 - tsresol_exp) + T0 // 10 ** (9 - tsresol_exp)
        body = struct.pack(e + "IIIII", 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data) + 4) + data
        body += b"\0" * (-len(data) % 4)
        body += b"".join(opt(1, c.encode()) for c in comments) + opt(0, b"")
        out += block(6, body)
    return out


def classic_pcap(packets, link_type):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link_type)
    for ts, data, _ in packets:
        out += struct.pack("<IIII", ts // 10**9, ts % 10**9 // 1000, len(data), len(data) + 4) + data
    return out


def test_thousand_files_of_every_format_merge_in_passes_within_max_open(tmp_path):
    files, expected = [], []
    for f in range(1000):
        kind = f % 4  # pcapng ns LE, pcapng us BE (two comments), classic pcap us, pcapng ns LE raw IP
        link = 101 if kind == 3 else 1
        ifname = "" if kind == 2 else f"eth{f % 7}"
        packets = []
        for k in range(f * 3, f * 3 + 3):
            ts = T0 + (k * 7919 % 1500) * 1000 + (250 if kind == 0 else 0)  # each time twice: ties across files
            comments = [] if kind == 2 else [f"{k},label{k % 5}"] + (["second comment"] if kind == 1 else [])
            packets.append((ts, k, comments))
        packets.sort(key=lambda p: p[0])
        written = [(ts, packet_bytes(k), c) for ts, k, c in packets]
        path = tmp_path / f"in{f:04d}.{'pcap' if kind == 2 else 'pcapng'}"
        path.write_bytes(classic_pcap(written, link) if kind == 2 else
                         pcapng(written, kind == 1, 6 if kind == 1 else 9, ifname, link))
        files.append(path)
        expected += [(ts, f, i, k, ",".join(c), ifname, link) for i, (ts, k, c) in enumerate(packets)]
    expected.sort(key=lambda r: r[:3])  # time, then input order, then order in the input

    tmpdir = tmp_path / "spill"
    tmpdir.mkdir()
    out = tmp_path / "all.pcapng"
    # 64 descriptors: merging 1,000 files at once is impossible; --max-open 16 merges them in passes.
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    p = subprocess.run([BIN, "merge", "-W", str(out), "--max-open", "16", "--tmpdir", str(tmpdir), "--stats",
                        *map(str, files)], capture_output=True, text=True, preexec_fn=limit)
    assert p.returncode == 0, p.stderr
    passes = int(p.stderr.split(" passes")[0].rsplit(" ", 1)[1])
    assert passes > 60, p.stderr
    assert os.listdir(tmpdir) == []
    got = frames(out)
    assert len(got) == 3000
    encap = {1: "1", 101: "7"}  # Wireshark's numbers for Ethernet and raw IP
    for g, (ts, f, i, k, comments, ifname, link) in zip(got, expected):
        data = packet_bytes(k)
        assert g[0] == Decimal(ts) / 10**9
        name = ifname or "unknown"  # what tshark says of an interface without if_name (a classic pcap's)
        assert g[1:] == [str(len(data) + 4), str(len(data)), encap[link], name, "", comments,
                         hashlib.md5(data).hexdigest()], (g, f, i)


def test_a_missing_or_damaged_input_fails_whole(tmp_path):
    good = tmp_path / "good.pcapng"
    good.write_bytes(pcapng([(T0, packet_bytes(1), ["1,a"]), (T0 + 5, packet_bytes(2), [])], False, 9, "eth0", 1))
    bad = tmp_path / "bad.pcapng"
    bad.write_bytes(good.read_bytes()[:-7])
    out = tmp_path / "out.pcapng"
    p = run("merge", "-W", out, good, tmp_path / "nothere.pcapng", check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "nothere.pcapng" in p.stderr
    # Found in the second pass: nothing is left behind, not even the first pass's file.
    p = run("merge", "-W", out, "--max-open", "2", good, good, good, bad, "--strict", check=False)  # test_partial.py
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and "bad.pcapng" in p.stderr and "offset" in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["bad.pcapng", "good.pcapng"]
