"""The fast loops (fastpath.py) against the careful path (Reader.block) on damaged files.

Every packet of a file read with read_packets() goes through Reader.block() alone;
the sampler takes most of them through the fast loops. On files damaged at random
places the two must agree: the same packets, or a FormatError at the same offset.
"""
import random

import pytest

import pcapml
import pcapml.reader
from pcapgen import PcapngBuilder
from test_sampler import flatten, random_file, reference

T0 = 1_700_000_000_000_000_000
pytestmark = pytest.mark.usefixtures("pure_python")  # the Python loops; test_native.py compares the module


def labeled_file(seed, interleaved):
    """Runs of packets whose comments all have the same length, so the block after a
    run looks like one more packet of it until its comment is compared; every padding
    length; now and then a packet with an extra option, no comment, or on another
    interface; the samples one after another or interleaved."""
    rnd = random.Random(seed)
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    b.interface(101, 9)
    sids = [sid for sid in rnd.sample(range(10**18, 2 * 10**18), 5) for _ in range(rnd.randint(1, 12))]
    if interleaved:
        rnd.shuffle(sids)
    t = T0
    for sid in sids:
        t += rnd.randint(1, 5 * 10**9)  # the high word of the time changes too
        r = rnd.random()
        comment = None if r < 0.04 else f"{sid},a"
        opts = [(2, b"\0\0\0\1")] if 0.04 <= r < 0.08 else []
        b.packet(rnd.randbytes(rnd.randint(0, 70)), t, comment, 1 if r > 0.96 else 0, "epb", opts)
    return b.bytes()


def outcome(read):
    try:
        return "ok", read()
    except pcapml.FormatError as err:
        return "error", err.offset


def fast(path, grouped):
    return [flatten(s) for s in pcapml.sampler(path, grouped=grouped)]


def mutations(data, rnd, count):
    for _ in range(count):
        bad = bytearray(data)
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(bad))
            bad[at] = rnd.choice([0, 1, 4, 0xFF, rnd.randrange(256), bad[at] ^ 1 << rnd.randrange(8)])
        yield bytes(bad)


def assert_agree(path, data, rnd, count):
    """data and `count` damaged copies of it, each written to path, read alike
    by the careful path and the sampler; how many were read whole, and not."""
    tried = {"ok": 0, "error": 0}
    for bad in [data, *mutations(data, rnd, count)]:
        path.write_bytes(bad)
        expected = outcome(lambda: reference(path))
        tried[expected[0]] += 1
        assert outcome(lambda: fast(path, False)) == expected
        got = outcome(lambda: fast(path, True))
        if got != expected:  # a changed comment can make a sample come back: then it says so
            with pytest.raises(pcapml.FormatError, match="appears again"):
                fast(path, True)
    return tried


@pytest.mark.parametrize("chunk", [64, 1 << 16])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("interleaved", [False, True])
def test_fast_loops_agree_with_the_careful_path_on_damaged_files(tmp_path, monkeypatch, chunk, seed,
                                                                 interleaved):
    monkeypatch.setattr(pcapml.reader, "CHUNK", chunk)
    tried = assert_agree(tmp_path / "f.pcapng", labeled_file(seed, interleaved), random.Random(seed), 250)
    assert min(tried.values()) > 20  # both kinds of file were seen often


@pytest.mark.parametrize("damage", ["truncate", "length"])
def test_file_changed_between_the_passes(tmp_path, monkeypatch, damage):
    monkeypatch.setattr(pcapml.reader, "CHUNK", 64)  # so the second sample is read again
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    for sid in (1, 2, 1, 1, 1):
        b.packet(bytes(40), T0, f"{sid},a")
    path = b.write(tmp_path / "f.pcapng")
    samples = pcapml.sampler(path, grouped=False)
    assert len(next(samples)) == 4  # the index pass is over
    data = bytearray(path.read_bytes())
    second = b.expected[1].offset
    if damage == "truncate":
        data = data[:second + 10]
    else:
        data[second + 4:second + 8] = (1000).to_bytes(4, "little")
    path.write_bytes(data)
    with pytest.raises(pcapml.FormatError, match="shrank" if damage == "truncate" else "changed") as err:
        next(samples)
    assert err.value.offset == (second + 10 if damage == "truncate" else second)


@pytest.mark.parametrize("chunk", [64, 1 << 16])
@pytest.mark.parametrize("seed", range(4))
def test_fast_loops_agree_on_damaged_files_of_every_kind(tmp_path, monkeypatch, chunk, seed):
    """The same on test_sampler's random files: sections of both byte orders, several
    interfaces and time units, PBs and SPBs, foreign blocks, extra options."""
    monkeypatch.setattr(pcapml.reader, "CHUNK", chunk)
    path, _ = random_file(tmp_path / "f.pcapng", seed, seed % 2 == 0)
    tried = assert_agree(path, path.read_bytes(), random.Random(seed), 150)
    assert min(tried.values()) > 10
