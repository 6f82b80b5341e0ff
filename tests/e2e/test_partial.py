"""A capture cut short (its writer killed mid-record) is read up to its last
complete packet by every offline command, with one warning naming the offset
and the count kept, as tcpdump -r reads it; --strict refuses it; damage
before the end stays an error. Outputs still appear whole or not at all."""
import os
import re
import struct
import subprocess

import pytest

from conftest import SAMPLE, run, tshark

TRACE = os.path.join(SAMPLE, "trace.pcap")
RULES = os.path.join(SAMPLE, "metadata.csv")


def blocks(data):
    """(offset, length, type) of each pcapng block."""
    out, at = [], 0
    while at < len(data):
        kind, length = struct.unpack_from("<II", data, at)
        out.append((at, length, kind))
        at += length
    return out


def records(data):
    """(offset, length) of each classic pcap record."""
    out, at = [], 24
    while at < len(data):
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        out.append((at, 16 + caplen))
        at += 16 + caplen
    return out


def count_packets(path):
    """Packets of a pcap or pcapng file, by walking its records."""
    data = open(path, "rb").read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return sum(1 for _, _, kind in blocks(data) if kind in (2, 3, 6))
    return len(records(data))


def tcpdump_count(path):
    p = subprocess.run(["tcpdump", "-nn", "-r", str(path)], capture_output=True, text=True)
    return len(p.stdout.splitlines())


@pytest.fixture(scope="module")
def labeled(tmp_path_factory):
    """The sample trace labeled (every packet: --keep-unmatched), as pcapng."""
    path = tmp_path_factory.mktemp("partial") / "labeled.pcapng"
    run("label", "-P", TRACE, "-L", RULES, "-W", path, "--keep-unmatched")
    return path


def commands(cut, out):
    """Each offline command over cut, and how many packets its output holds."""
    split = out / "split"
    return [
        (["summary", cut, "--csv"], lambda p: int(p.stdout.splitlines()[-1].split(",")[2])),
        (["label", "-P", cut, "-L", RULES, "-W", out / "l.pcapng", "--keep-unmatched"],
         lambda p: count_packets(out / "l.pcapng")),
        (["split", cut, "-O", split], lambda p: sum(count_packets(split / f) for f in os.listdir(split)
                                                   if f.endswith(".pcap"))),
        (["sort", cut, "-W", out / "s.pcapng"], lambda p: count_packets(out / "s.pcapng")),
        (["strip", cut, "-W", out / "p.pcap"], lambda p: count_packets(out / "p.pcap")),
        (["merge", "-W", out / "m.pcapng", cut], lambda p: count_packets(out / "m.pcapng")),
    ]


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_cut_at_every_byte_of_the_last_record_keeps_the_complete_packets(tmp_path, labeled, kind):
    data = open(TRACE if kind == "pcap" else labeled, "rb").read()
    if kind == "pcap":
        last, length = records(data)[-1]
    else:
        last, length, _ = blocks(data)[-1]
    # Split writes the labeled packets only: those of the 51 kept that tshark sees a comment on.
    comments = [r[0] for r in tshark(TRACE if kind == "pcap" else labeled, "frame.comment")]
    split_kept = sum(1 for c in comments[:51] if c)
    assert split_kept > 0 or kind == "pcap"
    cut = tmp_path / f"cut.{kind}"
    for n in range(last + 1, last + length):
        cut.write_bytes(data[:n])
        kept = tcpdump_count(cut)
        assert kept == 51  # the oracle: every packet but the last
        out = tmp_path / f"out{n}"
        out.mkdir()
        # summary at every byte; the other commands (the same reader) where the record's header ends and a few more
        header = 16 if kind == "pcap" else 8
        every = n - last in (1, header - 1, header, header + 1, length // 2, length - 1)
        for args, output_packets in commands(cut, out)[:None if every else 1]:
            p = run(*args)
            warning = (f"pcapml: warning: {cut}: cut short: the input ends inside the record at byte offset {last} "
                       f"({n - last}{'' if n - last < header else f' of {length}'} bytes); "
                       f"read the {kept} complete packets before it\n")
            assert p.stderr == warning, (args, n, p.stderr)
            assert output_packets(p) == (split_kept if args[0] == "split" else kept), (args, n)
            assert not [f for f in os.listdir(out) if f.endswith(".partial")]
    # The whole file: no warning.
    for args, _ in commands(TRACE if kind == "pcap" else labeled, tmp_path):
        assert run(*args).stderr == ""


def test_strict_refuses_a_cut_capture_and_writes_nothing(tmp_path, labeled):
    data = labeled.read_bytes()
    last = blocks(data)[-1][0]
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(data[:last + 20])
    out = tmp_path / "out"
    out.mkdir()
    for args, _ in commands(cut, out):
        p = run(*args, "--strict", check=False)
        assert p.returncode == 1, (args, p.stderr)
        assert p.stderr == f"pcapml: {cut}: cut short: the input ends inside the record at byte offset {last} " \
                           f"(20 of {blocks(data)[-1][1]} bytes) (--strict)\n", (args, p.stderr)
        assert not [f for f in os.listdir(out) if f != "split"], os.listdir(out)
    assert not (out / "split").exists() or not os.listdir(out / "split")


def test_damage_before_the_end_stays_an_error(tmp_path, labeled):
    data = bytearray(labeled.read_bytes())
    at, length, _ = blocks(bytes(data))[10]
    data[at + length - 4] ^= 0x40  # the block's trailing length disagrees
    bad = tmp_path / "bad.pcapng"
    bad.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    for args, _ in commands(bad, out):
        p = run(*args, check=False)
        assert p.returncode == 1 and re.search(rf"block length trailer mismatch .* at byte offset {at}\b", p.stderr), \
            (args, p.stderr)
        assert "warning" not in p.stderr
        assert not [f for f in os.listdir(out) if f != "split"], os.listdir(out)
