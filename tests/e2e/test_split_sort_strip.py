"""Issue 3 end to end, split / sort / strip: the real binary over labeled files
it made itself (directory mode and an interleaved capture), checked against
tcpdump and tshark on the original inputs."""
import csv
import os
import re
import shutil
import struct
import subprocess

import pytest

from conftest import SAMPLE, run, sample_id, tcpdump, tshark

NS = 1700000000 * 10**9


def write_pcap(path, packets, linktype=1, snaplen=65535):
    """Classic pcap with the nanosecond magic; packets: [(ts_ns, bytes)]."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, snaplen, linktype))
        for ts, data in packets:
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(data), len(data)) + data)


def _block(kind, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def _opt(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def write_pcapng(path, interfaces, packets):
    """interfaces: [linktype]; packets: [(iface, ts_ns, bytes, comment)]."""
    out = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _opt(0, b""))
    for lt in interfaces:
        out += _block(1, struct.pack("<HHI", lt, 0, 65535) + _opt(9, b"\x09") + _opt(0, b""))
    for iface, ts, data, comment in packets:
        opts = (_opt(1, comment.encode()) if comment else b"") + _opt(0, b"")
        data_pad = data + b"\0" * (-len(data) % 4)
        out += _block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data_pad + opts)
    path.write_bytes(out)


def frame(i, size=60):
    """An Ethernet/IPv4/UDP frame of `size` bytes, distinct per i."""
    ip = bytes([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, i % 250, 198, 51, 100, 1])
    body = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + struct.pack(">HHHH", 40000, 53, 8, 0)
    return (body + bytes((i + k) % 256 for k in range(size)))[:size]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The sample dataset plus a nanosecond pcap with big (> 8 KB) packets and
    a label that needs quoting and file-name cleaning; labeled with -D."""
    tmp = tmp_path_factory.mktemp("lab")
    src = SAMPLE
    d = tmp / "dataset"
    shutil.copytree(os.path.join(src, "dataset"), d)
    write_pcap(d / "big.pcap", [(NS + 123456789 + i * 1000000001, frame(i, 9000 + 3001 * i)) for i in range(4)])
    labels = tmp / "labels.txt"
    labels.write_text((open(os.path.join(src, "labels.txt")).read() + 'big.pcap,big "jumbo"/x,run=3\n'))
    labeled = tmp / "dataset.pcapng"
    run("-D", d, "-L", labels, "-W", labeled)
    inter = tmp / "trace.pcapng"
    run("-P", os.path.join(src, "trace.pcap"), "-L", os.path.join(src, "metadata.csv"), "-W", inter)
    lines = labels.read_text().splitlines()[1:]
    return {"dir": d, "labeled": labeled, "interleaved": inter, "lines": lines}


def packets(path):
    """tcpdump's text of each packet: nanosecond time, decode and every byte."""
    out = tcpdump(path, "-xx", "--time-stamp-precision=nano").strip()
    return re.split(r"\n(?=\d+\.\d{9} )", out) if out else []


def same_packets(a, b):
    """Both files hold the same packets, bytes and nanosecond times."""
    assert packets(a) == packets(b)


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def check_failed(p, *absent):
    """Exit 1, one line naming the problem, nothing under the asked-for names."""
    assert p.returncode == 1, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcapml: "), p.stderr
    for path in absent:
        assert not os.path.exists(path), path
        assert not os.path.exists(str(path) + ".partial"), path
    return lines[0]


# --- split ---------------------------------------------------------------

def test_split_gives_back_the_directory_inputs(tmp_path, lab):
    out = tmp_path / "out"
    p = run("-M", lab["labeled"], "-O", str(out) + "/", "--stats")
    assert "0 unlabeled skipped" in p.stderr
    expect = [["File", "Label"]]
    for line in lab["lines"]:
        name, label = line.split(",", 1)
        first = label.split(",")[0]
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in first)
        fname = f"{sample_id(line)}_{safe}.pcap"
        same_packets(out / fname, lab["dir"] / name)
        if name == "big.pcap":  # the nanosecond input, as tshark sees it
            assert tshark(out / fname, "frame.time_epoch") == tshark(lab["dir"] / name, "frame.time_epoch")
            assert tshark(out / fname, "frame.time_epoch")[0] == ["1700000000.123456789"]
        expect.append([fname, label])
        assert (out / fname).read_bytes()[:4] == struct.pack("<I", 0xA1B23C4D)
    assert csv_rows(out / "metadata.csv") == [expect[0]] + sorted(expect[1:], key=lambda r: int(r[0].split("_")[0]))
    assert '"big ""jumbo""/x,run=3"' in (out / "metadata.csv").read_text()
    assert sorted(os.listdir(out)) == sorted([r[0] for r in expect[1:]] + ["metadata.csv"])


def test_split_interleaved_samples_in_input_order(tmp_path, lab):
    src = lab["interleaved"]
    comments = [r[0] for r in tshark(src, "frame.comment")]
    assert len(set(comments)) > 3 and comments != sorted(comments, key=comments.index)  # really interleaved
    a, b = tmp_path / "a", tmp_path / "b"
    run("split", "--input", src, "--output-dir", a)
    run("-M", src, "-O", b, "--max-open-files", "1")  # every switch reopens a file
    names = sorted(os.listdir(a))
    assert names == sorted(os.listdir(b))
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    each = packets(src)
    assert len(each) == len(comments)
    for comment in set(comments):
        sid, label = comment.split(",", 1)
        fname = f"{sid}_{label.split(',')[0]}.pcap"
        assert packets(a / fname) == [p for p, c in zip(each, comments) if c == comment]


def test_split_skips_unlabeled_and_rejects_mixed_link_types(tmp_path):
    src = tmp_path / "in.pcapng"
    write_pcapng(src, [1], [(0, NS + i, frame(i), "" if i % 3 == 0 else f"{i % 2},x") for i in range(12)])
    out = tmp_path / "out"
    p = run("-M", src, "-O", out, "--stats")
    assert "12 packets read, 8 written to 2 sample files" in p.stderr and "4 unlabeled skipped" in p.stderr
    assert sorted(os.listdir(out)) == ["0_x.pcap", "1_x.pcap", "metadata.csv"]
    assert len(tshark(out / "1_x.pcap", "frame.number")) == 4
    mixed = tmp_path / "mixed.pcapng"
    write_pcapng(mixed, [1, 101], [(0, NS, frame(1), "77,m"), (1, NS + 1, frame(2)[14:], "77,m")])
    line = check_failed(run("-M", mixed, "-O", tmp_path / "new", check=False), tmp_path / "new")
    assert "sample 77 (m)" in line and "link types 1 and 101" in line


# --- sort ----------------------------------------------------------------

def test_sort_orders_by_sample_then_time_with_tiny_memory(tmp_path, lab):
    src = tmp_path / "in.pcapng"
    # Interleaved samples, equal timestamps (input order must break the tie),
    # unlabeled packets (last), two link types and packets over 8 KB.
    pk = []
    for i in range(300):
        sid = [5, 10**19, 42, 7][i % 4]
        comment = "" if i % 11 == 0 else f"{sid},s{sid}"
        iface = 1 if sid == 7 else 0
        data = frame(i, 60 + (i % 7) * 3000)[14 if iface else 0:]
        pk.append((iface, NS + (300 - i) // 3 * 1000, data, comment))
    write_pcapng(src, [1, 101], pk)
    a, b = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    p = run("-M", src, "-s", "-W", a, "--memory", "16KiB", "--stats")
    assert "runs spilled" in p.stderr and " 0 runs spilled" not in p.stderr
    unlabeled = sum(1 for x in pk if x[3] == "")
    assert f"{len(pk)} packets read and written, 4 samples, {unlabeled} unlabeled" in p.stderr, p.stderr
    run("sort", "--input", src, "--write", b)
    assert a.read_bytes() == b.read_bytes()
    expect = sorted(range(len(pk)), key=lambda i: (pk[i][3] == "", int(pk[i][3].split(",")[0] or 0), pk[i][1], i))
    got = tshark(a, "frame.comment", "frame.time_epoch", "frame.len", "frame.encap_type")
    assert [r[0] for r in got] == [pk[i][3] for i in expect]
    assert [r[2] for r in got] == [str(len(pk[i][2])) for i in expect]
    assert [int(r[1].replace(".", "")) for r in got] == [pk[i][1] for i in expect]
    # The same packets, byte for byte (tshark's hex dumps), re-ordered.
    dumps = lambda f: subprocess.run(["tshark", "-n", "-r", str(f), "-x"], capture_output=True, text=True,
                                     check=True).stdout.strip().split("\n\n")
    src_dumps = dumps(src)
    assert len(src_dumps) == len(pk)
    assert dumps(a) == [src_dumps[i] for i in expect]


def test_sort_keeps_interfaces_and_comments(tmp_path, lab):
    d = tmp_path / "dataset"
    shutil.copytree(lab["dir"], d)
    write_pcap(d / "raw.pcap", [(NS + 5, frame(3)[14:])], linktype=101, snaplen=2000)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(lab["lines"] + ["raw.pcap,rawip"]) + "\n")
    src = tmp_path / "in.pcapng"
    run("-D", d, "-L", labels, "-W", src)
    out = tmp_path / "out.pcapng"
    run("-M", src, "-s", "-W", out)
    fields = ("frame.comment", "frame.interface_name", "frame.encap_type", "frame.time_epoch", "frame.len")
    before, after = tshark(src, *fields), tshark(out, *fields)
    assert sorted(before) == sorted(after)
    ids = [int(r[0].split(",")[0]) for r in after]
    assert ids == sorted(ids)
    info = lambda f: sorted(set(subprocess.run(["capinfos", "-T", "-r", "-E", "-l", str(f)], capture_output=True,
                                                text=True).stdout.split("\t")[1:]))
    assert info(src) == info(out)


# --- strip ---------------------------------------------------------------

def test_strip_writes_the_same_packets_without_labels(tmp_path, lab):
    for src in (lab["labeled"], lab["interleaved"]):
        out = tmp_path / (src.name + ".pcap")
        run("-M", src, "-p", "-W", out)
        assert out.read_bytes()[:4] == struct.pack("<I", 0xA1B23C4D)
        same_packets(out, src)
        assert all(r == [""] for r in tshark(out, "frame.comment"))
    again = tmp_path / "again.pcap"
    run("strip", "--input", lab["interleaved"], "--write", again)
    assert again.read_bytes() == (tmp_path / "trace.pcapng.pcap").read_bytes()


def test_strip_several_link_types(tmp_path):
    src = tmp_path / "in.pcapng"
    write_pcapng(src, [1, 101, 113], [(0, NS, frame(1), "1,a"), (1, NS + 1, frame(2)[14:], "2,b"),
                                      (2, NS + 2, frame(3), "3,c")])
    out = tmp_path / "out.pcap"
    line = check_failed(run("-M", src, "-p", "-W", out, check=False), out)
    assert "several link types (1, 101, 113)" in line and "--pcapng" in line
    ng = tmp_path / "out.pcapng"
    run("-M", src, "-p", "--pcapng", "-W", ng)
    fields = ("frame.encap_type", "frame.time_epoch", "frame.len")
    assert tshark(ng, *fields) == tshark(src, *fields)
    assert [r[0] for r in tshark(ng, "frame.comment")] == ["", "", ""]


# --- determinism and bad input ---------------------------------------------

def test_every_command_twice_gives_identical_bytes(tmp_path, lab):
    src = lab["interleaved"]
    for args, outs in ((["-s", "-W"], ["1.pcapng", "2.pcapng"]), (["-p", "-W"], ["1.pcap", "2.pcap"])):
        for o in outs:
            run("-M", src, *args, tmp_path / o)
        assert (tmp_path / outs[0]).read_bytes() == (tmp_path / outs[1]).read_bytes()
    run("-M", src, "-O", tmp_path / "s1")
    run("-M", src, "-O", tmp_path / "s1")  # over its own output
    run("-M", src, "-O", tmp_path / "s2/")
    assert sorted(os.listdir(tmp_path / "s1")) == sorted(os.listdir(tmp_path / "s2"))
    for n in os.listdir(tmp_path / "s1"):
        assert (tmp_path / "s1" / n).read_bytes() == (tmp_path / "s2" / n).read_bytes()


@pytest.mark.parametrize("command", [["-O"], ["-s", "-W"], ["-p", "-W"]], ids=["split", "sort", "strip"])
def test_malformed_inputs(tmp_path, lab, command):
    good = lab["interleaved"].read_bytes()
    truncated = tmp_path / "truncated.pcapng"
    truncated.write_bytes(good[: len(good) - 100])
    garbage = tmp_path / "garbage.pcapng"
    garbage.write_bytes(b"this is not a capture\n" * 20)
    out = tmp_path / "out"
    flag = command[-1]

    def attempt(src, dst, *extra):
        return run("-M", src, *command[:-1], flag, dst, *extra, check=False)

    assert "at byte offset" in check_failed(attempt(truncated, out, "--strict"), out)  # else read (test_partial.py)
    assert "not a pcap or pcapng file" in check_failed(attempt(garbage, out), out)
    assert "No such file" in check_failed(attempt(tmp_path / "missing.pcapng", out), out)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    check_failed(attempt(lab["interleaved"], blocker / "sub"), blocker / "sub")
    assert blocker.read_text() == "x"
    assert sorted(os.listdir(tmp_path)) == ["file", "garbage.pcapng", "truncated.pcapng"]
