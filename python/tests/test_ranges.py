"""byte_ranges() and sampler_range(): a grouped file cut into byte ranges of whole
samples (what pcapml.dask gives a task each) reads as the whole file does."""
import gzip
import random

import pytest

import pcapml
import pcapml.native
from conftest import require_native
from pcapgen import PcapngBuilder
from test_sampler import flatten, random_file

T0 = 1_700_000_000_000_000_000
BOTH = pytest.mark.usefixtures("backend")  # a test with both readers


def grouped_file(path, seed, trailing=False):
    """One section, three interfaces (two time units), EPBs, PBs and SPBs,
    unlabeled packets between and inside samples; samples one after another."""
    rnd = random.Random(seed)
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    b.interface(101, 6)
    b.interface(1, 9, snaplen=90)
    t = T0
    for n in range(40):
        sid = rnd.getrandbits(64)
        for _ in range(rnd.randint(1, 12)):
            t += rnd.randint(1, 10**6) * 1000
            kind = rnd.choice(["epb"] * 8 + ["pb", "spb"])
            comment = None if rnd.random() < 0.08 else f"{sid},label{n % 3},k={n}"
            ifid = rnd.randrange(3)
            data = rnd.randbytes(rnd.randint(0, 90 if ifid == 2 else 300))
            b.packet(data, t, comment, ifid, kind)
    if trailing:
        b.other(5, bytes(8))  # an interface statistics block after the last packet
    return b.write(path)


def whole_and_ranges(path, every):
    ranges = pcapml.byte_ranges(path, every)
    whole = [(s.sid, s.label, flatten(s)) for s in pcapml.sampler(path, grouped=True)]
    parts = [[(s.sid, s.label, flatten(s)) for s in pcapml.sampler_range(path, r)] for r in ranges]
    return ranges, whole, parts


@BOTH
@pytest.mark.parametrize("seed", range(4))
def test_ranges_read_as_the_whole_file(tmp_path, seed):
    path = grouped_file(tmp_path / "g.pcapng", seed, trailing=seed % 2 == 1)
    size = path.stat().st_size
    for every in (1, 700, 3000, size // 3, size):
        ranges, whole, parts = whole_and_ranges(path, every)
        assert [s for part in parts for s in part] == whole  # every sample once, in the file's order
        assert all(parts), "no range is empty"
        assert ranges[0][0] == 0 and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
        assert all(stop - start >= every for start, stop, _, _ in ranges[:-1])
        if every < size // 3:
            assert len(ranges) >= 3
    assert len(pcapml.byte_ranges(path, size)) == 1


@BOTH
@pytest.mark.parametrize("seed", range(6))
def test_ranges_of_files_with_blocks_between_packets(tmp_path, seed):
    """Several sections of both byte orders and foreign blocks: ranges begin after the last of them."""
    path, _ = random_file(tmp_path / "r.pcapng", seed, True)
    ranges, whole, parts = whole_and_ranges(path, 64)
    assert [s for part in parts for s in part] == whole
    prefix_end = ranges[0][2]
    assert all(start >= prefix_end for start, _, _, _ in ranges[1:])


@BOTH
def test_options_apply_in_each_range(tmp_path):
    path = grouped_file(tmp_path / "g.pcapng", 7)
    ranges = pcapml.byte_ranges(path, 2000)
    assert len(ranges) > 2
    keep = {s.sid for s in pcapml.sampler(path, grouped=True)}
    keep = set(sorted(keep)[::2])
    for options in ({"labels": "label1"}, {"sids": keep}, {"limit": 2}):
        whole = [(s.sid, flatten(s)) for s in pcapml.sampler(path, grouped=True, **options)]
        assert [(s.sid, flatten(s)) for r in ranges for s in pcapml.sampler_range(path, r, **options)] == whole


@BOTH
def test_a_file_not_grouped_is_refused(tmp_path):
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    for sid in (1, 2, 1):
        b.packet(bytes(40), T0, f"{sid},a")
    path = b.write(tmp_path / "f.pcapng")
    with pytest.raises(pcapml.FormatError, match="appears again after other samples") as err:
        pcapml.byte_ranges(path, 10)
    assert err.value.offset == b.expected[2].offset


def test_both_readers_cut_at_the_same_places(tmp_path, monkeypatch):
    require_native()
    for seed in range(3):
        path = grouped_file(tmp_path / f"g{seed}.pcapng", seed, trailing=True)
        native = pcapml.byte_ranges(path, 1500)
        with monkeypatch.context() as m:
            m.setattr(pcapml.native, "NATIVE", None)
            assert pcapml.byte_ranges(path, 1500) == native


def test_a_compressed_file_is_one_range(tmp_path):
    """gzip input (which the native module reads) has offsets of its own: no cut."""
    require_native()
    path = grouped_file(tmp_path / "g.pcapng", 5)
    assert len(pcapml.byte_ranges(path, 100)) > 3
    packed = tmp_path / "g.pcapng.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert pcapml.byte_ranges(packed, 100) == [(0, (1 << 64) - 1, 0, 0)]
