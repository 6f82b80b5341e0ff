"""pcapml.torch.SampleDataset: every sample exactly once across DataLoader workers and ranks."""
import pytest

import pcapml
from test_native import interleaved_file

torch = pytest.importorskip("torch", reason="python3-torch is not installed (scripts/deps.sh installs it)")
from torch.utils.data import DataLoader  # noqa: E402

from pcapml.torch import SampleDataset, shard_of  # noqa: E402

pytestmark = pytest.mark.usefixtures("backend")


def files(tmp_path):
    """Two interleaved files with different samples."""
    a = interleaved_file(tmp_path / "a.pcapng", samples=60, seed=1)
    b = interleaved_file(tmp_path / "b.pcapng", samples=60, seed=2, first_sid=10**16)
    return [a, b]


def whole(sample):
    return sample.sid, sample.meta["label"], [row[4] for row in sample]


def test_each_sample_exactly_once_with_two_workers_and_two_ranks(tmp_path):
    paths = files(tmp_path)
    expected = sorted(whole(s) for path in paths for s in pcapml.sampler(path))
    seen, by_rank = [], []
    for rank in (0, 1):
        dataset = SampleDataset(paths, transform=whole, rank=rank, world_size=2)
        got = [tuple(item) for item in DataLoader(dataset, num_workers=2, batch_size=None)]  # (lists come as lists)
        assert got == [tuple(item) for item in DataLoader(dataset, num_workers=2, batch_size=None)]  # every epoch
        by_rank.append({sid for sid, _, _ in got})
        seen += got
    assert sorted(seen) == expected  # every sample once, with its label and bytes
    assert all(len(r) > 20 for r in by_rank) and not by_rank[0] & by_rank[1]
    assert {shard_of(sid, 4) for sid in by_rank[0]} == {0, 1}  # rank 0's two workers, by sampleID


def test_default_items_batch_and_a_list_of_ids(tmp_path):
    paths = files(tmp_path)
    samples = {s.sid: s for path in paths for s in pcapml.sampler(path)}
    keep = sorted(samples)[::3]
    (tmp_path / "ids.txt").write_text("".join(f"{sid}\n" for sid in keep))
    dataset = SampleDataset(paths, ids=tmp_path / "ids.txt", classes=["label1", "label3", "label0"],
                            packets=4, nbytes=24)
    batches = list(DataLoader(dataset, batch_size=5, num_workers=2))
    got = {}
    for batch in batches:
        assert batch["data"].shape[1:] == (4, 24) and batch["data"].dtype == torch.uint8
        for data, n, label, sid in zip(batch["data"], batch["packets"], batch["label"], batch["sample_id"]):
            got[int(sid) & (1 << 64) - 1] = (data, int(n), int(label))
    wanted = {sid for sid in keep if samples[sid].meta["label"] in ("label1", "label3", "label0")}
    assert set(got) == wanted and wanted
    for sid, (data, n, label) in got.items():
        s = samples[sid]
        assert n == min(4, len(s)) and ["label1", "label3", "label0"][label] == s.meta["label"]
        for i in range(n):
            buf = s[i][4][:24]
            assert bytes(data[i].tolist()) == buf + bytes(24 - len(buf))
        assert not data[n:].any()


def test_rank_and_world_size_come_from_torch_distributed(tmp_path):
    import torch.distributed as dist
    paths = files(tmp_path)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    try:
        dataset = SampleDataset(paths, transform=lambda s: s.sid)
        assert dataset._place() == (0, 1)
        assert sorted(dataset) == sorted(s.sid for p in paths for s in pcapml.sampler(p))
    finally:
        dist.destroy_process_group()
