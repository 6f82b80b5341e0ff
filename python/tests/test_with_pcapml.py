"""End to end: files written by the pcapml binary read back through the sampler.

These run the C++ binary (PCAPML_BIN, default build/pcapml); they fail, not
skip, when it is missing, since CTest runs them only after the build.
"""
import os
import struct
import subprocess
import sys

import pytest

import pcapml
from pcapgen import pcap

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PCAPML = os.environ.get("PCAPML_BIN", os.path.join(REPO, "build", "pcapml"))
T0 = 1_700_000_000_000_000_000


def run(*args):
    # Checked in the test, not a fixture, so a missing binary is a failure, not a setup error.
    assert os.access(PCAPML, os.X_OK), f"pcapml binary not found at {PCAPML} (build first or set PCAPML_BIN)"
    done = subprocess.run([PCAPML, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args} failed: {done.stderr}"
    return done.stdout


def udp(src, dst, payload, sport=1234, dport=53):
    """Ethernet + IPv4 + UDP, enough for BPF host/port filters to match."""
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 1, 0, 64, 17, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return bytes(6) + b"\x02" + bytes(5) + b"\x08\x00" + ip + struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def packets_of(sample):
    return [(sample.ts_ns(i), buf) for i, (_, _, _, _, buf) in enumerate(sample)]


@pytest.fixture
def directory_dataset(tmp_path):
    """Three pcaps (us and ns, Ethernet and raw IP) labeled by a labels file with a header."""
    tmp = tmp_path
    dataset = tmp / "dataset"
    dataset.mkdir()
    inputs = {
        "a.pcap": ("google", [(T0 + i * 1_000_000_000 + i * 1000, udp("10.0.0.1", "8.8.8.8", b"a" * i)) for i in range(5)], False, 1),
        "b.pcap": ("netflix", [(T0 + 17 + i, udp("10.0.0.2", "1.1.1.1", b"b" * (100 + i))) for i in range(7)], True, 1),
        "c.pcap": ("google", [(T0 + 5 * i, bytes([0x45]) + bytes(39)) for i in range(3)], True, 101),
    }
    lines = ["filename,label"]
    for name, (label, pkts, nano, link_type) in inputs.items():
        (dataset / name).write_bytes(pcap(pkts, "<", nano, link_type))
        lines.append(f"{name},{label}")
    (tmp / "labels.txt").write_text("\n".join(lines) + "\n")
    out = tmp / "out.pcapng"
    return ["-D", str(dataset), "-L", str(tmp / "labels.txt"), "-W", str(out)], out, inputs


def test_directory_mode_round_trip(directory_dataset):
    args, out, inputs = directory_dataset
    run(*args)
    for grouped in (False, True):
        samples = {s.sid: s for s in pcapml.sampler(out, grouped=grouped)}
        assert len(samples) == len(inputs)
        for name, (label, pkts, _, link_type) in inputs.items():
            s = samples[pcapml.sample_id(f"{name},{label}")]
            assert s.label == label and s.meta["label"] == label and s.link_type == link_type
            assert packets_of(s) == pkts
            assert all(row[2] == label and abs(row[3] - ts / 1e9) < 1e-6 for row, (ts, _) in zip(s, pkts))


def test_seed_example_runs(directory_dataset):
    args, out, inputs = directory_dataset
    run(*args)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "python"))
    script = os.path.join(REPO, "python", "examples", "seed_example.py")
    lines = subprocess.run([sys.executable, script, str(out)], env=env, check=True,
                           capture_output=True, text=True).stdout.splitlines()
    expected = {f"{pcapml.sample_id(f'{n},{label}')} {len(pkts)} {label}" for n, (label, pkts, _, _) in inputs.items()}
    assert sorted(lines) == sorted(expected)


def test_capture_mode_round_trip(tmp_path):
    trace = [(T0 + i * 1000, udp("10.0.0.%d" % (1 + i % 3), "8.8.8.8", bytes([i]) * 30)) for i in range(30)]
    (tmp_path / "trace.pcap").write_bytes(pcap(trace, "<", True))
    rules = ["BPF:host 10.0.0.1,alpha", "BPF:host 10.0.0.2,beta,mykey"]  # 10.0.0.3 matches nothing
    (tmp_path / "metadata.csv").write_text("\n".join(rules) + "\n")
    out = tmp_path / "out.pcapng"
    run("-P", str(tmp_path / "trace.pcap"), "-L", str(tmp_path / "metadata.csv"), "-W", str(out))
    samples = {s.sid: s for s in pcapml.sampler(out)}  # interleaved: read through the index
    assert set(samples) == {pcapml.sample_id(rules[0]), pcapml.sample_id("mykey")}
    assert packets_of(samples[pcapml.sample_id(rules[0])]) == trace[0::3]
    assert packets_of(samples[pcapml.sample_id("mykey")]) == trace[1::3]
    assert samples[pcapml.sample_id("mykey")].label == "beta"


def test_sorted_output_streams_in_one_pass(tmp_path):
    trace = [(T0 + i, udp("10.0.0.%d" % (1 + i % 2), "8.8.8.8", bytes([i]) * 10)) for i in range(20)]
    (tmp_path / "trace.pcap").write_bytes(pcap(trace, "<", True))
    (tmp_path / "metadata.csv").write_text("BPF:host 10.0.0.1,a\nBPF:host 10.0.0.2,b\n")
    labeled, ordered = tmp_path / "labeled.pcapng", tmp_path / "sorted.pcapng"
    run("-P", str(tmp_path / "trace.pcap"), "-L", str(tmp_path / "metadata.csv"), "-W", str(labeled))
    run("-M", str(labeled), "-s", "-W", str(ordered))
    with pytest.raises(pcapml.FormatError, match="not grouped"):
        list(pcapml.sampler(labeled, grouped=True))
    one_pass = {s.sid: packets_of(s) for s in pcapml.sampler(ordered, grouped=True)}
    assert one_pass == {s.sid: packets_of(s) for s in pcapml.sampler(labeled)}
    assert list(one_pass) == sorted(one_pass)  # sorted by sampleID


def test_daemon_output_round_trip(tmp_path):
    """The daemon replaying a capture into rotated files: each file read through the
    sampler gives, per sample, exactly the trace's packets its rule matches."""
    trace = [(T0 + i * 1000 + i % 7, udp("10.0.0.%d" % (1 + i % 3), "8.8.8.8", bytes([i]) * (20 + i % 50)))
             for i in range(90)]
    (tmp_path / "trace.pcap").write_bytes(pcap(trace, "<", True))
    rules = ["BPF:host 10.0.0.1,alpha", "BPF:host 10.0.0.2,beta,mykey"]  # 10.0.0.3: unlabeled
    (tmp_path / "rules.csv").write_text("\n".join(rules) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "d.toml").write_text(
        f'[[source]]\nfile = "{tmp_path / "trace.pcap"}"\npace = "fast"\n'
        f'[rules]\nfiles = ["{tmp_path / "rules.csv"}"]\nunmatched = "keep"\n'
        f'[output]\ndirectory = "{out}"\nprefix = "d"\nrotate_packets = 25\n'
        '[metrics]\nlisten = ""\n')  # no endpoint: the default port may be another test's
    run("daemon", "--config", str(tmp_path / "d.toml"))  # a file source: it ends with the file
    files = sorted(str(out / f) for f in os.listdir(out))
    assert len(files) == 4 and all(f.endswith(".pcapng") for f in files)
    got, position = {}, 0
    for f in files:
        for s in pcapml.sampler(f):  # interleaved: read through the index
            assert s.label == ("alpha" if s.sid == pcapml.sample_id(rules[0]) else "beta")
            got.setdefault(s.sid, []).extend(
                (position + idx, ts_ns, buf) for (idx, _, _, _, buf), ts_ns in zip(s, s.timestamps_ns()))
        position += sum(1 for _ in pcapml.read_packets(f))
    expected = {pcapml.sample_id(rules[0]): 0, pcapml.sample_id("mykey"): 1}
    assert set(got) == set(expected)
    for sid, first in expected.items():
        assert sorted(got[sid]) == [(i, *trace[i]) for i in range(first, 90, 3)]
