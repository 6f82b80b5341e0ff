import glob
import os
import re

import pytest

import pcapml
from pcapgen import PcapngBuilder, pcap

from conftest import conformance_corpus

CORPUS = conformance_corpus()


def check_against(path, expected):
    got = list(pcapml.read_packets(path))
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert (g.idx, g.offset, g.link_type, g.ts_ns, g.data, g.comment) == \
            (i, e.offset, e.link_type, e.ts_ns, e.data, e.comment)
    return got


@pytest.mark.parametrize("order", ["<", ">"])
def test_every_block_kind_and_timestamp_unit(tmp_path, order):
    b = PcapngBuilder()
    b.section(order)
    ns = b.interface(link_type=1, tsresol=9, name="eth0")
    us = b.interface(link_type=101, tsresol=6)  # raw IP, microseconds
    two = b.interface(link_type=1, tsresol=0x80 | 30)  # 2^-30 s
    pico = b.interface(link_type=1, tsresol=10, tsoffset=-5)  # finer than 1 ns, negative offset
    t = 1_700_000_000_123_456_789
    b.packet(b"\x01" * 60, t, "1,a", ns)
    b.other(4, b"\x00" * 4)  # NRB
    b.packet(b"\x02" * 61, t + 1000, "1,a", us)
    b.other(5, b"\x00" * 12)  # ISB
    b.packet(b"\x03" * 62, t + 7, "2,b", two)
    b.packet(b"\x04" * 63, t + 3, None, pico, kind="pb")
    b.packet(b"\x05" * 64, 0, kind="spb")
    b.packet(b"\x06" * 65, t, "3,c", ns, opts=[(2, b"\x00\x00\x00\x01")])  # flags, then the comment
    b.other(0x0BAD, b"abcdefgh")  # custom block
    b.section(">" if order == "<" else "<")  # a second section, other byte order
    b.interface(link_type=1, tsresol=9, tsoffset=100)
    b.packet(b"\x07" * 66, t, "1,a")
    got = check_against(b.write(tmp_path / "all.pcapng"), b.expected)
    assert got[1].ts_ns == t + 1000 - 789 and got[4].ts_ns is None
    assert got[0].sid == 1 and got[0].label == "a" and got[3].sid is None


def test_spb_is_cut_to_snaplen(tmp_path):
    b = PcapngBuilder()
    b.section()
    b.interface(snaplen=10)
    b.packet(b"x" * 40, 0, kind="spb")
    got = check_against(b.write(tmp_path / "spb.pcapng"), b.expected)
    assert got[0].data == b"x" * 10 and got[0].orig_len == 40


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_classic_pcap(tmp_path, order, nano):
    packets = [(1_700_000_000_000_001_000 + i * 1000, bytes([i]) * (i + 1)) for i in range(5)]
    path = tmp_path / "x.pcap"
    path.write_bytes(pcap(packets, order, nano, link_type=113))
    got = list(pcapml.read_packets(path))
    assert [(p.ts_ns, p.data, p.link_type, p.comment) for p in got] == \
        [(ts, data, 113, None) for ts, data in packets]
    assert list(pcapml.sampler(path)) == []  # no labels, so no samples


def corpus_files():
    files = sorted(glob.glob(os.path.join(CORPUS, "output_*", "*", "*.pcapng")))
    assert files, f"no conformance corpus at {CORPUS}"
    return files


def expected_packets(txt):
    counts = dict(re.findall(r"^\s+(\w+): (\d+)$", open(txt).read(), re.M))
    return sum(int(counts.get(kind, 0)) for kind in ("EPB", "SPB", "PB"))


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: os.path.relpath(p, CORPUS))
def test_conformance_corpus(path, backend):
    packets = list(pcapml.read_packets(path))
    assert len(packets) == expected_packets(path[:-len(".pcapng")] + ".txt")
    labeled = sum(p.sid is not None for p in packets)
    for grouped in (False, True):
        assert sum(len(s) for s in pcapml.sampler(path, grouped=grouped)) == labeled
