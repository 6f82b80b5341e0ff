"""Dask: the samples of many labeled files as a dask.bag (Debian's python3-dask
and python3-distributed), one partition per file.

    import pcapml.dask
    bag = pcapml.dask.samples(sorted(glob.glob("capture/*.pcapng")))
    per_label = bag.map(lambda s: (s.meta["label"], len(s))).foldby(
        lambda kv: kv[0], lambda total, kv: total + kv[1], 0, lambda a, b: a + b, 0).compute()

Each worker reads its files with pcapml.sampler() (the native module when it
is built there), so a sample's packets are read where the sample is used; a
sample sent between processes (a result, a shuffle) carries its packets. A
sample whose packets span several files (a daemon's rotated files) is one
element per file it has packets in.
"""
import os

import dask.bag

from .sampler import sampler


def samples(paths, **options):
    """A dask.bag of the samples of `paths` (a file name or a list), one partition
    per file, in file order; options as for pcapml.sampler() (labels, sids, limit, grouped)."""
    paths = [paths] if isinstance(paths, (str, bytes, os.PathLike)) else list(paths)
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("no files to read")
    return dask.bag.from_sequence(paths, partition_size=1).map_partitions(_read, options)


def _read(paths, options):
    for path in paths:
        yield from sampler(path, **options)
