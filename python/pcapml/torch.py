"""PyTorch: the samples of labeled files as an IterableDataset (Debian's python3-torch).

    from torch.utils.data import DataLoader
    from pcapml.torch import SampleDataset

    dataset = SampleDataset(["a.pcapng", "b.pcapng"], ids="split/train.txt", classes=["web", "dns"])
    for batch in DataLoader(dataset, batch_size=64, num_workers=4):
        batch["data"], batch["label"]   # uint8 [64, 16, 128], int64 [64]

Each DataLoader worker of each distributed rank reads the samples whose
sampleID hashes to it, so every sample is read exactly once per epoch, by one
worker, whatever the number of workers and ranks, always the same way.
"""
import torch
import torch.utils.data

from .labels import parse_meta
from .sampler import _label_test, read_sids, sampler

_MIX = 0x9E3779B97F4A7C15  # a sampleID's shard: (sid * _MIX mod 2^64) * shards >> 64


def shard_of(sid, shards):
    """Which of `shards` (workers times ranks) reads a sample: by its sampleID alone."""
    return (sid * _MIX & 0xFFFFFFFFFFFFFFFF) * shards >> 64


class SampleDataset(torch.utils.data.IterableDataset):
    """The samples of one or more labeled pcapng files.

    paths: a file name or a list of them, read in that order.
    ids: sampleIDs to keep: a collection, or a file of them (`pcapml ids --split`).
    transform: called with each pcapml.Sample (packets read when used); what it
        returns is the item. Default: a dict of
          data       uint8 tensor [packets, nbytes]: the first `packets` packets'
                     first `nbytes` bytes, zero-padded (nPrint-style)
          packets    how many rows of data are packets
          label      the label's index in `classes`, or the label (meta['label'])
                     when classes is None
          sample_id  the sampleID as int64 (its 64 bits: `& (1 << 64) - 1` gives it back)
    labels: as for pcapml.sampler(); classes: label names, in code order (samples
        with another label are left out).
    rank, world_size: this process's place among distributed ranks; by default
        torch.distributed's when it is initialized, else 0 of 1.
    A sample whose packets span several files (a daemon's rotated files) comes
    once per file it has packets in.
    """

    def __init__(self, paths, ids=None, transform=None, labels=None, classes=None, packets=16, nbytes=128,
                 rank=None, world_size=None):
        super().__init__()
        self.paths = [paths] if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__") else list(paths)
        self.ids = None if ids is None else read_sids(ids)
        self.labels, self.classes = labels, None if classes is None else list(classes)
        self.transform, self.packets, self.nbytes = transform, packets, nbytes
        self.rank, self.world_size = rank, world_size

    def _place(self):
        """(this reader's shard, number of shards) from the worker and the rank."""
        rank, world = self.rank, self.world_size
        if rank is None or world is None:
            dist = torch.distributed
            initialized = dist.is_available() and dist.is_initialized()
            rank = rank if rank is not None else dist.get_rank() if initialized else 0
            world = world if world is not None else dist.get_world_size() if initialized else 1
        worker = torch.utils.data.get_worker_info()
        workers, worker_id = (worker.num_workers, worker.id) if worker else (1, 0)
        return rank * workers + worker_id, world * workers

    def __iter__(self):
        shard, shards = self._place()
        labels = self.labels
        if self.classes is not None:
            wanted, test = set(self.classes), _label_test(labels)
            labels = lambda metadata: (test is None or test(metadata)) and _label_of(metadata) in wanted  # noqa: E731
        for path in self.paths:
            limit = self.packets if self.transform is None else None
            for sample in sampler(path, labels=labels, sids=self.ids, limit=limit):
                if shard_of(sample.sid, shards) == shard:
                    yield self._default(sample) if self.transform is None else self.transform(sample)

    def _default(self, sample):
        data = torch.zeros((self.packets, self.nbytes), dtype=torch.uint8)
        n = min(len(sample), self.packets)
        for i, row in zip(range(n), sample):
            buf = row[4][:self.nbytes]
            if buf:
                data[i, :len(buf)] = torch.frombuffer(bytearray(buf), dtype=torch.uint8)
        label = _label_of(sample.label)
        return {"data": data, "packets": n,
                "label": self.classes.index(label) if self.classes is not None else label,
                "sample_id": sample.sid - (1 << 64) if sample.sid >= 1 << 63 else sample.sid}


def _label_of(metadata):
    return parse_meta(metadata).get("label", "")
