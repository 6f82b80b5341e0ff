import random

import pytest

import pcapml
import pcapml.reader
from pcapgen import PcapngBuilder

T0 = 1_700_000_000_000_000_000
pytestmark = pytest.mark.usefixtures("backend")  # each test with both readers


def reference(path):
    """Samples as read_packets() sees them: labeled packets grouped by sampleID, first seen first."""
    samples = {}
    for p in pcapml.read_packets(path):
        if p.sid is not None:
            samples.setdefault(p.sid, []).append((p.idx, p.sid, p.label, p.ts_ns, p.data, p.link_type))
    return list(samples.values())


def flatten(sample):
    return [(idx, sid, label, sample.ts_ns(i), buf, sample.link_type_of(i))
            for i, (idx, sid, label, ts, buf) in enumerate(sample)]


def random_file(path, seed, grouped):
    """Sections in both byte orders, several interfaces, every packet block kind, foreign blocks."""
    rnd = random.Random(seed)
    b = PcapngBuilder()
    sids = [rnd.getrandbits(64) for _ in range(6)]
    order = [s for s in sids for _ in range(rnd.randint(1, 30))]
    if not grouped:
        rnd.shuffle(order)
    t = T0
    for i, sid in enumerate(order):
        if i == 0 or rnd.random() < 0.03:
            b.section(rnd.choice("<>"))
            for _ in range(rnd.randint(1, 3)):
                b.interface(rnd.choice([1, 101, 113]), rnd.choice([9, 9, 6, 0x80 | 20]))
        if rnd.random() < 0.1:
            b.other(rnd.choice([4, 5, 10, 0x0BAD]), bytes(4 * rnd.randint(0, 3)))
        t += rnd.randint(1, 10**9)
        data = rnd.randbytes(rnd.randint(0, 200))
        kind = rnd.choice(["epb"] * 12 + ["pb", "spb"])
        comment = None if rnd.random() < 0.05 else f"{sid},label{sid % 3},k={sid % 7}"
        opts = [(2, b"\0\0\0\1")] if rnd.random() < 0.05 else []
        b.packet(data, t, comment, rnd.randrange(len(b.interfaces)), kind, opts)
    b.write(path)
    return path, b.expected


@pytest.mark.parametrize("chunk", [64, 300, 1 << 16])
@pytest.mark.parametrize("seed", range(8))
def test_random_files_match_read_packets(tmp_path, monkeypatch, chunk, seed):
    monkeypatch.setattr(pcapml.reader, "CHUNK", chunk)  # small reads: every refill path runs
    for grouped in (True, False):
        path, written = random_file(tmp_path / f"{grouped}.pcapng", seed, grouped)
        assert [(p.offset, p.link_type, p.ts_ns, p.data, p.comment) for p in pcapml.read_packets(path)] == \
            [tuple(w) for w in written]
        expected = reference(path)
        assert [flatten(s) for s in pcapml.sampler(path)] == expected
        if grouped:
            assert [flatten(s) for s in pcapml.sampler(path, grouped=True)] == expected


def simple_file(path, comments, link_types=None):
    b = PcapngBuilder()
    b.section()
    for lt in sorted(set(link_types or [1])):
        b.interface(lt)
    ifids = {lt: i for i, lt in enumerate(sorted(set(link_types or [1])))}
    for i, comment in enumerate(comments):
        lt = link_types[i] if link_types else 1
        b.packet(i.to_bytes(2, "big") * 10, T0 + i, comment, ifids[lt])
    return b.write(path)


def test_seed_tuple_shape_and_attributes(tmp_path):
    path = simple_file(tmp_path / "a.pcapng", ["7,google,browser=firefox"] * 3)
    (sample,) = pcapml.sampler(path)
    assert sample[0][1] == 7 and sample[0][2] == "google,browser=firefox"
    idx, sid, label, ts, buf = sample[2]
    assert (idx, sid, label, buf) == (2, 7, "google,browser=firefox", b"\0\2" * 10)
    assert ts == pytest.approx((T0 + 2) / 1e9) and sample.ts_ns(2) == T0 + 2
    assert (sample.sid, sample.label, sample.link_type) == (7, "google,browser=firefox", 1)
    assert sample.meta == {"label": "google", "browser": "firefox"}
    assert sample.timestamps_ns() == [T0, T0 + 1, T0 + 2]


def test_interleaved_is_read_sample_by_sample(tmp_path):
    path = simple_file(tmp_path / "a.pcapng", ["1,a", "2,b", "1,a", None, "3,c", "2,b", "1,a"])
    got = [(s.sid, [p[0] for p in s]) for s in pcapml.sampler(path)]
    assert got == [(1, [0, 2, 6]), (2, [1, 5]), (3, [4])]
    with pytest.raises(pcapml.FormatError, match="sample 1 appears again"):
        list(pcapml.sampler(path, grouped=True))


def test_grouped_error_names_the_offset(tmp_path):
    path = simple_file(tmp_path / "a.pcapng", ["1,a", "2,b", "1,a"])
    third = list(pcapml.read_packets(path))[2].offset
    with pytest.raises(pcapml.FormatError) as err:
        list(pcapml.sampler(path, grouped=True))
    assert err.value.offset == third and f"byte {third}" in str(err.value)


@pytest.mark.parametrize("grouped", [False, True])
def test_selection_and_limit(tmp_path, grouped):
    comments = ["1,web,run=1"] * 4 + ["2,dns"] * 3 + ["3,web,run=2"] * 2 + ["s=4,proc=ssh"] * 2
    path = simple_file(tmp_path / "a.pcapng", comments)
    sids = lambda **kw: [s.sid for s in pcapml.sampler(path, grouped=grouped, **kw)]
    assert sids() == [1, 2, 3, 4]
    assert sids(labels=["web"]) == [1, 3]
    assert sids(labels="ssh") == [4]
    assert sids(labels=["dns", "web,run=2"]) == [2, 3]
    assert sids(labels=lambda label: "run=2" in label) == [3]
    assert sids(sids=[3, "1", 99]) == [1, 3]
    assert sids(sids=[1, 2], labels="dns") == [2]
    assert [len(s) for s in pcapml.sampler(path, grouped=grouped, limit=2)] == [2, 2, 2, 2]
    assert [s.ts_ns(1) for s in pcapml.sampler(path, grouped=grouped, limit=2)] == \
        [T0 + 1, T0 + 5, T0 + 8, T0 + 10]
    with pytest.raises(ValueError):
        pcapml.sampler(path, limit=0)


def test_link_type_per_packet(tmp_path):
    path = simple_file(tmp_path / "a.pcapng", ["1,a"] * 4, link_types=[1, 1, 101, 1])
    for grouped in (False, True):
        (s,) = pcapml.sampler(path, grouped=grouped)
        assert s.link_type == 1 and [s.link_type_of(i) for i in range(4)] == [1, 1, 101, 1]


def test_unlabeled_packets_are_skipped_but_counted(tmp_path):
    path = simple_file(tmp_path / "a.pcapng", [None, "hello", "1,a", None, "1,a"])
    (s,) = pcapml.sampler(path)
    assert [p[0] for p in s] == [2, 4]
    assert [p.comment for p in pcapml.read_packets(path)] == [None, "hello", "1,a", None, "1,a"]


def test_large_sample_across_many_chunks(tmp_path):
    path = simple_file(tmp_path / "a.pcapng", ["1,a"] * 5000 + ["2,b"] * 5000)
    for grouped in (False, True):
        assert [len(s) for s in pcapml.sampler(path, grouped=grouped)] == [5000, 5000]


def test_a_pickled_sample_carries_its_packets(tmp_path):
    import pickle
    path = simple_file(tmp_path / "a.pcapng", ["1,a,k=v"] * 3 + ["1,a,k=w"], link_types=[1, 1, 101, 1])
    (s,) = pcapml.sampler(path)
    t = pickle.loads(pickle.dumps(s))
    path.unlink()  # not needed any more: the packets came along
    assert flatten(t) == flatten(s) and (t.sid, t.label, t.meta, t.link_type) == (s.sid, s.label, s.meta, 1)
    assert t == s and t[1:3] == s[1:3] and t.timestamps_ns() == s.timestamps_ns()
