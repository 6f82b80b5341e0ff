"""Issue 3 end to end, label command: directory mode and capture mode with the
legacy metadata grammar, checked against tcpdump/tshark as oracles."""
import os
import shutil
import struct

import pytest

from conftest import run, sample_id, tcpdump, tshark


def write_pcap(path, packets, linktype=1, nano=False):
    """packets: [(ts_sec, ts_frac, bytes)] as classic pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for sec, frac, data in packets:
            f.write(struct.pack("<IIII", sec, frac, len(data), len(data)) + data)


def ipv4_udp(src_last, dport):
    ip = bytes([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, src_last, 198, 51, 100, 1])
    return ip + struct.pack(">HHHH", 40000, dport, 8, 0)


@pytest.fixture
def lab(tmp_path, sample):
    d = tmp_path / "dataset"
    shutil.copytree(os.path.join(sample, "dataset"), d)
    labels = tmp_path / "labels.txt"
    shutil.copy(os.path.join(sample, "labels.txt"), labels)
    return d, labels


def test_seed_walkthrough_directory_mode(tmp_path, lab):
    d, labels = lab
    out = tmp_path / "dataset.pcapng"
    run("-D", str(d) + "/", "-L", labels, "-W", out)
    lines = labels.read_text().splitlines()[1:]
    ids = {l.split(",", 1)[0]: (sample_id(l), l.split(",", 1)[1]) for l in lines}
    # Packets come file by file in sorted path order, each with its file's label.
    expect = []
    for name in sorted(ids):
        sid, label = ids[name]
        n = len(tshark(d / name, "frame.number"))
        expect += [f"{sid},{label}"] * n
    assert [r[0] for r in tshark(out, "frame.comment")] == expect
    assert "reading from file" in __import__("subprocess").run(
        ["tcpdump", "-r", str(out), "-c", "1"], capture_output=True, text=True).stderr


def test_long_form_and_determinism(tmp_path, lab):
    d, labels = lab
    a, b = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    run("label", "--dir", d, "--labels", labels, "--write", a)
    run("-D", d, "-L", labels, "-W", b)
    assert a.read_bytes() == b.read_bytes()


def test_link_types_get_their_own_interfaces(tmp_path, lab):
    d, labels = lab
    write_pcap(d / "raw.pcap", [(1700000005, 1, ipv4_udp(9, 53))], linktype=101)
    with open(labels, "a") as f:
        f.write("raw.pcap,rawip\n")
    out = tmp_path / "o.pcapng"
    run("-D", d, "-L", labels, "-W", out)
    rows = tshark(out, "frame.interface_id", "frame.comment", "udp.dstport")
    raw = [r for r in rows if r[1].endswith(",rawip")]
    assert len(raw) == 1 and raw[0][2] == "53"
    assert raw[0][0] != rows[0][0]
    assert len({r[0] for r in rows}) == 2


def test_unlisted_missing_and_bad_files(tmp_path, lab):
    d, labels = lab
    (d / "notes.txt").write_text("not a capture")
    out = tmp_path / "o.pcapng"
    p = run("-D", d, "-L", labels, "-W", out, "--verbose", "--stats")
    assert "notes.txt is not listed" in p.stderr and "1 unlisted" in p.stderr
    # A listed file that is not a pcap: one line naming it, nothing written.
    with open(labels, "a") as f:
        f.write("notes.txt,junk\nmissing.pcap,gone\n")
    out2 = tmp_path / "o2.pcapng"
    p = run("-D", d, "-L", labels, "-W", out2, check=False)
    assert p.returncode == 1 and "missing.pcap" in p.stderr or "notes.txt" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not out2.exists() and not (tmp_path / "o2.pcapng.partial").exists()
    # --skip-bad turns both into warnings and counts them.
    p = run("-D", d, "-L", labels, "-W", out2, "--skip-bad", "--stats")
    assert "2 skipped" in p.stderr and p.stderr.count("warning") == 2
    assert len(tshark(out2, "frame.number")) == 52


def rule_oracle(trace, rules):
    """First-match labels per packet (identified by time and length) from
    tcpdump's BPF for each rule in order; rules are (bpf, first_ns, last_ns, metadata)."""
    times = tcpdump(trace, "--nano").splitlines()
    assert len({t.split()[0] for t in times}) == len(times), "oracle needs unique packet times"
    taken = {}
    for bpf, first, last, meta in rules:
        out = tcpdump(trace, "--nano", *( [bpf] if bpf else []))
        for line in out.splitlines():
            ts = line.split()[0]
            sec, frac = ts.split(".")
            ns = int(sec) * 10**9 + int(frac)
            if first <= ns <= last and ns not in taken:
                taken[ns] = meta
    return taken


def test_capture_mode_matches_tcpdump_oracle(tmp_path, sample):
    trace = os.path.join(sample, "trace.pcap")
    meta = tmp_path / "metadata.csv"
    meta.write_text(
        "# comment line\n\n"
        "BPF:ether host 02:00:00:00:00:fe and udp,from-router,key-1\n"
        "BPF:tcp port 80|TS_START:1700000000.05|TS_END:1700000000.075,web-window\n"
        "TS_START:1700000001|TS_END:1700000001,second-one\n"
        "BPF:icmp or ip6,rest\n")
    out = tmp_path / "o.pcapng"
    p = run("-P", trace, "-L", meta, "-W", out, "--stats")
    big = 2**62
    oracle = rule_oracle(trace, [
        ("ether host 02:00:00:00:00:fe and udp", -big, big, "from-router"),
        ("tcp port 80", 1700000000_050000000, 1700000000_075000000, "web-window"),
        ("", 1700000001_000000000, 1700000001_999999999, "second-one"),
        ("icmp or ip6", -big, big, "rest")])
    rows = tshark(out, "frame.time_epoch", "frame.comment")
    got = {int(t.replace(".", "")): c for t, c in rows}
    assert {ns: c.split(",", 1)[1] for ns, c in got.items()} == oracle
    lines = meta.read_text().splitlines()
    ids = {"from-router": sample_id("key-1"), "web-window": sample_id(lines[3]),
           "second-one": sample_id(lines[4]), "rest": sample_id(lines[5])}
    for c in got.values():
        sid, label = c.split(",", 1)
        assert int(sid) == ids[label]
    assert f"{len(oracle)} labeled" in p.stderr
    # --keep-unmatched writes the rest without a comment.
    out2 = tmp_path / "keep.pcapng"
    run("-P", trace, "-L", meta, "-W", out2, "--keep-unmatched")
    rows = tshark(out2, "frame.comment")
    assert len(rows) == 52 and sum(1 for r in rows if r[0] == "") == 52 - len(oracle)


@pytest.mark.parametrize("line,needle", [
    ("BPF:tcp port,bad", "invalid BPF"),
    ("BPF:host 192.0.2.1|TS_START:yesterday,bad", "invalid TS_START"),
    ("BPF:host 192.0.2.1|TS_END:1700000000.1234567891,bad", "invalid TS_END"),
    ("COLOR:blue,bad", "unknown term"),
    ("BPF:ip,", "empty metadata"),
    ("no commas here", "expected <filter>,<metadata>"),
    ("BPF:udp\0 and port 99,bad", "BPF filter contains a NUL byte 'udp\\0 and port 99'"),
    ("BPF:tcp,a,b,c,d,e", "too many fields"),
])
def test_bad_rules_name_file_line_and_text(tmp_path, sample, line, needle):
    meta = tmp_path / "m.csv"
    meta.write_text("BPF:udp,fine\n" + line + "\n")
    out = tmp_path / "o.pcapng"
    p = run("-P", os.path.join(sample, "trace.pcap"), "-L", meta, "-W", out, check=False)
    assert p.returncode == 1
    assert len(p.stderr.strip().splitlines()) == 1
    assert f"{meta}:2:" in p.stderr and needle in p.stderr
    assert not out.exists() and not (tmp_path / "o.pcapng.partial").exists()


def test_bpf_with_colons_and_rules_without_bpf(tmp_path, sample):
    meta = tmp_path / "m.csv"
    meta.write_text("BPF:ether src 02:00:00:00:00:01 and ip6,v6-out\nTS_END:1700000000,first-second\n")
    out = tmp_path / "o.pcapng"
    run("-P", os.path.join(sample, "trace.pcap"), "-L", meta, "-W", out)
    rows = tshark(out, "frame.comment", "ipv6.src", "frame.time_epoch")
    v6 = [r for r in rows if r[0].endswith(",v6-out")]
    assert len(v6) == 2 and all(r[1] == "2001:db8::10" for r in v6)
    first = [r for r in rows if r[0].endswith(",first-second")]
    assert first and all(r[2].startswith("1700000000.") for r in first)


def test_truncated_capture_and_unwritable_output(tmp_path, sample):
    data = open(os.path.join(sample, "trace.pcap"), "rb").read()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:len(data) // 2])
    meta = tmp_path / "m.csv"
    meta.write_text("BPF:ip,x\n")
    out = tmp_path / "o.pcapng"
    p = run("-P", cut, "-L", meta, "-W", out, "--strict", check=False)  # else read (test_partial.py)
    assert p.returncode == 1 and "offset" in p.stderr and str(cut) in p.stderr
    assert not out.exists()
    p = run("-P", os.path.join(sample, "trace.pcap"), "-L", meta, "-W", "/nonexistent/dir/o.pcapng", check=False)
    assert p.returncode == 1 and "/nonexistent/dir/o.pcapng" in p.stderr
    p = run("-P", os.path.join(sample, "trace.pcap"), "-L", tmp_path / "nope.csv", "-W", out, check=False)
    assert p.returncode == 1 and "nope.csv" in p.stderr
    p = run("-D", tmp_path / "nodir", "-L", meta, "-W", out, check=False)
    assert p.returncode == 1


def test_usage_errors_exit_2(tmp_path):
    assert run("label", "-W", tmp_path / "x", "-L", "y", check=False).returncode == 2
    assert run("label", "-D", "a", "-P", "b", "-L", "y", "-W", "z", check=False).returncode == 2
