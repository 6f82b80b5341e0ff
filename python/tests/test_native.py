"""The native module (pcapml._native, pcapml's C++ reader) against the pure-Python reader.

Both must give the same samples, packet for packet, or the same FormatError
(offset and message), on generated grouped and interleaved files, on randomly
damaged copies of them and on the public conformance corpus.
"""
import glob
import os
import random
import struct
import subprocess
import sys

import pytest

import pcapml
import pcapml.native
from conftest import conformance_corpus, require_native
from pcapgen import PcapngBuilder, epb, idb, shb
from test_fastpath import labeled_file, mutations
from test_sampler import flatten, random_file

T0 = 1_700_000_000_000_000_000
HERE = os.path.dirname(os.path.abspath(__file__))


def outcome(read):
    try:
        return "ok", read()
    except pcapml.FormatError as err:
        return "error", err.offset, str(err)


def both(monkeypatch, read):
    """read() with the native module and with the pure-Python reader."""
    require_native()
    native = outcome(read)
    with monkeypatch.context() as m:
        m.setattr(pcapml.native, "NATIVE", None)
        python = outcome(read)
    return native, python


def samples(path, **options):
    return [(s.sid, s.label, s.meta, s.link_type, len(s), flatten(s)) for s in pcapml.sampler(path, **options)]


def assert_same(monkeypatch, path, grouped_too=True, **options):
    """The same samples or error from both readers, indexed (and in one pass);
    'ok' or 'error', how the indexed read went."""
    native, python = both(monkeypatch, lambda: samples(path, grouped=False, **options))
    assert native == python
    if grouped_too:
        native_grouped, python_grouped = both(monkeypatch, lambda: samples(path, grouped=True, **options))
        assert native_grouped == python_grouped
    return python[0]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("grouped", [False, True])
def test_generated_files(tmp_path, monkeypatch, seed, grouped):
    path, _ = random_file(tmp_path / "f.pcapng", seed, grouped)
    assert assert_same(monkeypatch, path, grouped_too=grouped) == "ok"
    assert_same(monkeypatch, path, grouped_too=grouped, limit=3)
    sids = [s.sid for s in pcapml.sampler(path)][::2]
    assert_same(monkeypatch, path, grouped_too=grouped, sids=sids, labels=lambda label: "k=" in label)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("interleaved", [False, True])
def test_damaged_files(tmp_path, monkeypatch, seed, interleaved):
    rnd = random.Random(seed)
    path = tmp_path / "f.pcapng"
    tried = {"ok": 0, "error": 0}
    for data in [labeled_file(seed, interleaved), random_file(tmp_path / "r.pcapng", seed, not interleaved)[0].read_bytes()]:
        for bad in [data, *mutations(data, rnd, 120)]:
            path.write_bytes(bad)
            tried[assert_same(monkeypatch, path)] += 1
    assert min(tried.values()) > 20


def corpus_files():
    files = sorted(glob.glob(os.path.join(conformance_corpus(), "output_*", "*", "*.pcapng")))
    assert files, f"no conformance corpus at {conformance_corpus()}"
    return files


def test_conformance_corpus(monkeypatch):
    for path in corpus_files():
        assert_same(monkeypatch, path)


def test_every_block_kind_and_both_byte_orders(tmp_path, monkeypatch):
    b = PcapngBuilder()
    for order in "<>":
        b.section(order)
        ns = b.interface(1, 9)
        us = b.interface(101, 6, tsoffset=-3)
        two = b.interface(113, 0x80 | 30)
        b.packet(b"a" * 30, T0, "1,x,k=v", ns)
        b.other(4, bytes(4))
        b.packet(b"b" * 31, T0 + 1000, "1,x,k=v", us)
        b.packet(b"c" * 32, T0 + 7, "2,y", two, kind="pb")
        b.packet(b"d" * 33, 0, kind="spb")
        b.packet(b"e" * 34, T0, "s=3,proc=z,label=w", ns)  # an older release's comment
        b.packet(b"f" * 35, T0, "1,other metadata", ns)  # one sampleID, two metadata strings
        b.packet(b"g" * 36, T0, "4,\xe9\xff", ns, opts=[(2, b"\0\0\0\1")])
        b.packet(b"h" * 37, T0, "hello, not a label", ns)
    path = b.write(tmp_path / "f.pcapng")
    got = assert_same(monkeypatch, path, grouped_too=False)
    assert got == "ok"


def test_times_at_and_past_the_range_alike(tmp_path, monkeypatch):
    """The last nanosecond pcap and pcapng output can hold is read, one after it refused, by both readers."""
    path = tmp_path / "f.pcapng"
    last = (1 << 32) * 10**9 - 1
    for tsresol, tsoffset, raw, ok in [(9, 0, last, True), (9, 0, last + 1, False), (0, 0, 2**64 - 1, False),
                                       (9, -(2**62), 2**63, False), (9, -1, 10**9, True), (9, -1, 10**9 - 1, False)]:
        opts = [(9, bytes([tsresol]))] + ([(14, struct.pack("<q", tsoffset))] if tsoffset else [])
        path.write_bytes(shb() + idb(opts=opts) + epb(b"x", raw_ts=raw, comment="1,a"))
        native, python = both(monkeypatch, lambda: samples(path))
        assert native == python and (native[0] == "ok") == ok
        if ok:
            assert native[1][0][5][0][3] == raw + tsoffset * 10**9  # flatten()'s ts_ns


def interleaved_file(path, samples=300, concurrent=40, seed=1, first_sid=10**15):
    """Many samples at a time taking turns of 1 to 4 packets, as the daemon writes them."""
    rnd = random.Random(seed)
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    live = [[i, rnd.randint(1, 30)] for i in range(concurrent)]
    started, t = concurrent, T0
    while live:
        turn = rnd.randrange(len(live))
        sid, left = live[turn]
        for _ in range(min(rnd.randint(1, 4), left)):
            t += rnd.randint(1, 10**6)
            b.packet(rnd.randbytes(rnd.randint(40, 200)), t, f"{sid + first_sid},label{sid % 5}")
        live[turn][1] -= min(left, 4)
        if live[turn][1] <= 0:
            if started < samples:
                live[turn] = [started, rnd.randint(1, 30)]
                started += 1
            else:
                del live[turn]
    return b.write(path)


def test_interleaved_file_read_sample_by_sample(tmp_path, monkeypatch):
    path = interleaved_file(tmp_path / "f.pcapng")
    native, python = both(monkeypatch, lambda: samples(path))
    assert native == python and len(python[1]) == 300


def test_samples_are_read_when_used_in_any_order(tmp_path):
    require_native()
    path = interleaved_file(tmp_path / "f.pcapng", samples=50)
    got = list(pcapml.sampler(path))  # the sampler is done: the samples still read their packets
    expected = {s.sid: list(s) for s in got}
    for s in reversed(got):
        assert list(s) == expected[s.sid]
        n = len(s)
        assert [s[i] for i in range(n - 1, -1, -1)] == expected[s.sid][::-1]
        assert s[-1] == expected[s.sid][-1] and s[1:n:2] == expected[s.sid][1:n:2]
        with pytest.raises(IndexError):
            s[n]
    a, b = got[0], got[1]
    assert list(zip(a, b)) == list(zip(expected[a.sid], expected[b.sid]))  # two iterators at once
    mid = iter(got[2])
    next(mid)
    assert list(got[3]) == expected[got[3].sid] and list(mid) == expected[got[2].sid][1:]


def test_file_changed_between_the_passes(tmp_path):
    require_native()
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    for sid in (1, 2, 1, 1, 1):
        b.packet(bytes(40), T0, f"{sid},a")
    path = b.write(tmp_path / "f.pcapng")
    data = path.read_bytes()
    second = b.expected[1].offset
    for damage, what in [(data[:second + 10], "cut short"),
                         (data[:second + 4] + (1000).to_bytes(4, "little") + data[second + 8:], "bad length|cut short"),
                         (data[:second] + b"\x05" + data[second + 1:], "no packet block here any more")]:
        path.write_bytes(data)
        sampled = pcapml.sampler(path, grouped=False)
        first = next(sampled)  # the index pass is over
        path.write_bytes(damage)
        with pytest.raises(pcapml.FormatError, match=what) as err:
            list(next(sampled))
        assert err.value.offset == second
        assert len(first) == 4  # what is not read again is still there


def test_open_errors_are_the_pure_readers(tmp_path, monkeypatch):
    for path in (tmp_path / "missing.pcapng", tmp_path):
        for grouped in (None, False, True):
            native, python = both(monkeypatch, lambda: pytest.raises(
                OSError, lambda: list(pcapml.sampler(path, grouped=grouped))).type)
            assert native == python and native[1] in (FileNotFoundError, IsADirectoryError)


def test_a_big_sample_is_not_read_into_memory(tmp_path):
    """One sample of 300,000 packets (~50 MB): reading it costs about what the module
    does, not the sample's size, as the issue's 3M-packet sample must not."""
    require_native()
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    block = b.bytes()
    b.packet(bytes(120), T0, "7,big")
    one = b.bytes()[len(block):]
    path = tmp_path / "big.pcapng"
    with open(path, "wb") as f:
        f.write(block + one * 300_000)
    script = (
        "import resource, sys, pcapml\n"
        "start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "(s,) = pcapml.sampler(sys.argv[1])\n"
        "n = sum(1 for row in s)\n"
        "assert n == len(s) == 300000 and s[-1][0] == 299999 and s[150000][4] == bytes(120)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start)\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    grown_kib = int(subprocess.run([sys.executable, "-c", script, str(path)], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert grown_kib < 8 * 1024, f"reading the sample grew the process by {grown_kib} KiB"
