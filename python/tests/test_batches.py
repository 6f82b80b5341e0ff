"""pcapml.batches(): numpy arrays of many samples, the same from the native module and pure Python."""
import numpy as np
import pytest

import pcapml
from test_native import both, interleaved_file
from test_sampler import random_file

both_readers = pytest.mark.usefixtures("backend")


def check_batches(path, nbytes=32, **options):
    """Every batch against the sampler's samples, and the whole as a list of plain values."""
    samples = {s.sid: s for s in pcapml.sampler(path, limit=options.get("limit"), sids=options.get("sids"),
                                                 grouped=options.get("grouped"))}
    done = {}
    got = []
    for batch in pcapml.batches(path, nbytes=nbytes, **options):
        n = len(batch["sample_id"])
        assert batch["sample_id"].dtype == np.uint64 and batch["label"].dtype == np.int32
        assert batch["ts_ns"].dtype == np.int64 and batch["caplen"].dtype == np.uint32
        assert batch["sample_index"].dtype == np.int32 and batch["data"].dtype == np.uint8
        assert batch["data"].shape == (len(batch["ts_ns"]), nbytes)
        assert n <= options.get("batch_size", 256) and len(batch["ts_ns"]) <= options.get("max_packets", 65536)
        assert np.array_equal(np.bincount(batch["sample_index"], minlength=n), batch["sample_packets"])
        for k in range(n):
            sample = samples[int(batch["sample_id"][k])]
            rows = np.flatnonzero(batch["sample_index"] == k)
            first = done.get(sample.sid, 0)
            for r, i in zip(rows, range(first, first + len(rows))):
                buf = sample[i][4]
                assert batch["ts_ns"][r] == sample.ts_ns(i) and batch["caplen"][r] == len(buf)
                row = bytes(batch["data"][r])
                assert row[:len(buf)] == buf[:nbytes] and row[len(buf):] == bytes(max(0, nbytes - len(buf)))
            done[sample.sid] = first + len(rows)
            assert batch["label_names"][batch["label"][k]] == sample.meta.get("label", "")
            assert batch["link_type"][k] == sample.link_type
        got.append({key: value.tolist() if hasattr(value, "tolist") else value for key, value in batch.items()})
    assert done == {sid: len(s) for sid, s in samples.items() if sid in done}
    return got


@both_readers
def test_batches_hold_every_packet_of_every_sample(tmp_path):
    path = interleaved_file(tmp_path / "f.pcapng", samples=120)
    got = check_batches(path, nbytes=64, batch_size=17, max_packets=100)
    assert sum(len(b["sample_id"]) for b in got) > 120  # samples longer than a batch's room go on in the next
    assert len({sid for b in got for sid in b["sample_id"]}) == 120


@both_readers
@pytest.mark.parametrize("seed", range(4))
def test_generated_files_of_every_block_kind(tmp_path, seed):
    path, _ = random_file(tmp_path / "f.pcapng", seed, seed % 2 == 0)
    check_batches(path, nbytes=1 + seed * 50, batch_size=3, max_packets=7, limit=None if seed < 2 else 4)


@both_readers
def test_options(tmp_path):
    path = interleaved_file(tmp_path / "f.pcapng", samples=50)
    by_label = {}
    for s in pcapml.sampler(path):
        by_label.setdefault(s.meta["label"], []).append(s.sid)
    (batch,) = pcapml.batches(path, labels="label2", batch_size=1000)
    assert batch["sample_id"].tolist() == by_label["label2"] and batch["label_names"] == ["label2"]
    (batch,) = pcapml.batches(path, classes=["label4", "label1"], batch_size=1000)
    assert batch["label_names"] == ["label4", "label1"]
    assert sorted(batch["sample_id"].tolist()) == sorted(by_label["label4"] + by_label["label1"])
    assert {int(c) for c in batch["label"]} == {0, 1}
    (batch,) = pcapml.batches(path, limit=2, batch_size=1000)
    assert batch["sample_packets"].max() == 2
    with pytest.raises(ValueError):
        pcapml.batches(path, nbytes=0)


def test_native_and_python_batches_are_equal(tmp_path, monkeypatch):
    path = interleaved_file(tmp_path / "f.pcapng", samples=80)
    native, python = both(monkeypatch, lambda: check_batches(path, nbytes=20, batch_size=9, max_packets=50))
    assert native == python


@both_readers
def test_to_pandas(tmp_path):
    pd = pytest.importorskip("pandas", reason="python3-pandas is not installed (scripts/deps.sh installs it)")
    path = interleaved_file(tmp_path / "f.pcapng", samples=20)
    frame = pcapml.to_pandas(path)
    rows = [(s.sid, idx, label, s.ts_ns(i), buf) for s in pcapml.sampler(path)
            for i, (idx, _, label, ts, buf) in enumerate(s)]
    assert len(frame) == len(rows)
    assert list(zip(frame.sample_id, frame.idx, frame.label, frame.ts_ns, frame.data)) == rows
    assert frame.caplen.tolist() == [len(r[4]) for r in rows] and isinstance(frame, pd.DataFrame)
