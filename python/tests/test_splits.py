"""`pcapml ids --split` (the C++ binary) and the sampler reading its lists.

The binary is PCAPML_BIN (default build/pcapml); these fail, not skip, when it is missing.
"""
import collections
import random

import pytest

import pcapml
from pcapgen import PcapngBuilder
from test_with_pcapml import run

T0 = 1_700_000_000_000_000_000


def dataset(path, seed, samples=200):
    """A labeled file of `samples` samples of 2 packets, interleaved; its sampleIDs."""
    rnd = random.Random(seed)
    b = PcapngBuilder()
    b.section()
    b.interface(1, 9)
    sids = [rnd.getrandbits(64) for _ in range(samples)]
    order = sids * 2
    rnd.shuffle(order)
    for i, sid in enumerate(order):
        b.packet(rnd.randbytes(40), T0 + i, f"{sid},{['web', 'dns'][sid % 2]}")
    b.packet(bytes(40), T0, None)  # unlabeled: in no list
    b.write(path)
    return set(sids)


def lists(directory, names=("train", "val", "test")):
    return {name: [int(line) for line in (directory / f"{name}.txt").read_text().split()] for name in names}


def test_split_is_by_id_alone_and_stable_as_files_are_added(tmp_path):
    a, b, c = (tmp_path / f"{n}.pcapng" for n in "abc")
    ids = {name: dataset(path, i) for i, (name, path) in enumerate(zip("abc", (a, b, c)))}
    out = run("ids", "-M", str(a), str(b), "--split", "80/10/10", "--seed", "7", "-O", str(tmp_path / "one"))
    assert "train" in out and "test.txt" in out
    first = lists(tmp_path / "one")
    assert all(part == sorted(part) for part in first.values())
    every = [sid for part in first.values() for sid in part]
    assert sorted(every) == sorted(ids["a"] | ids["b"])  # each sample in exactly one list
    counts = collections.Counter({name: len(part) for name, part in first.items()})
    assert 260 < counts["train"] < 380 and 15 < counts["val"] < 70 and 15 < counts["test"] < 70
    for name, part in first.items():
        assert all(pcapml.split_of(sid, 7, (80, 10, 10)) == name for sid in part)  # the documented rule

    run("ids", "-M", str(a), str(b), str(c), "--split", "80/10/10", "--seed", "7", "-O", str(tmp_path / "two"))
    second = lists(tmp_path / "two")
    for name in first:
        assert set(first[name]) <= set(second[name])  # nobody moved
    assert sum(map(len, second.values())) == len(ids["a"] | ids["b"] | ids["c"])

    run("ids", "-M", str(a), str(b), "--split", "80/10/10", "--seed", "8", "-O", str(tmp_path / "other"))
    assert lists(tmp_path / "other")["test"] != first["test"]  # another seed, another split
    assert run("ids", "-M", str(a)).split() == [str(sid) for sid in sorted(ids["a"])]


def test_two_way_split_and_bad_options(tmp_path):
    a = tmp_path / "a.pcapng"
    ids = dataset(a, 1, samples=50)
    run("ids", "-M", str(a), "--split", "9/1", "-O", str(tmp_path / "out"))
    parts = lists(tmp_path / "out", ("train", "test"))
    assert sorted(parts["train"] + parts["test"]) == sorted(ids)
    assert not (tmp_path / "out" / "val.txt").exists()
    import subprocess
    from test_with_pcapml import PCAPML
    for bad in (["--split", "80/x/10", "-O", "d"], ["--split", "100", "-O", "d"], ["--split", "80/20"]):
        done = subprocess.run([PCAPML, "ids", "-M", str(a), *bad], capture_output=True, text=True)
        assert done.returncode == 1 and "ids:" in done.stderr


@pytest.mark.usefixtures("backend")
def test_the_sampler_and_batches_read_a_list(tmp_path):
    a = tmp_path / "a.pcapng"
    dataset(a, 3, samples=60)
    run("ids", "-M", str(a), "--split", "50/50", "--seed", "1", "-O", str(tmp_path / "out"))
    train = set(lists(tmp_path / "out", ("train", "test"))["train"])
    listed = tmp_path / "out" / "train.txt"
    assert {s.sid for s in pcapml.sampler(a, sids=listed)} == train
    assert {s.sid for s in pcapml.sampler(a, sids=str(listed))} == train
    assert {int(sid) for batch in pcapml.batches(a, sids=listed) for sid in batch["sample_id"]} == train
    assert pcapml.read_sids(listed) == train
    listed.write_text("12\n# a comment\n\nnot-an-id\n")
    with pytest.raises(ValueError, match="train.txt:4: not a sampleID"):
        pcapml.read_sids(listed)
