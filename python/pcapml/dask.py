"""Dask: the samples of many labeled files as a dask.bag (Debian's python3-dask
and python3-distributed): one partition per file, and per byte range of a
large file grouped by sample.

    import pcapml.dask
    bag = pcapml.dask.samples(sorted(glob.glob("capture/*.pcapng")))
    per_label = bag.map(lambda s: (s.meta["label"], len(s))).foldby(
        lambda kv: kv[0], lambda total, kv: total + kv[1], 0, lambda a, b: a + b, 0).compute()

Each worker reads its files with pcapml.sampler() (the native module when it
is built there), so a sample's packets are read where the sample is used; a
sample sent between processes (a result, a shuffle) carries its packets. A
sample whose packets span several files (a daemon's rotated files) is one
element per file it has packets in.

A file grouped by sample (`pcapml sort`, `pcapml label -D`; see
pcapml.sampler's `grouped`) larger than `partition_bytes` is cut into byte
ranges of whole samples, each read by its own task: samples() reads the file
once where it is called to find where samples begin (the sample index, which
also checks that the file is grouped), and each range begins at a sample's
first packet. Every sample is in exactly one partition, and the bag keeps the
file's order. Files that are not grouped are one partition each: their
samples' packets are spread over the whole file.
"""
import os

import dask.bag
import dask.utils

from .sampler import byte_ranges, declares_grouped, sampler, sampler_range


def samples(paths, partition_bytes="256MiB", **options):
    """A dask.bag of the samples of `paths` (a file name or a list), in file
    order: one partition per file, and one per `partition_bytes` (an int or a
    string such as "256MiB"; None: never cut) of a larger file grouped by
    sample. Options as for pcapml.sampler() (labels, sids, limit, grouped)."""
    paths = [paths] if isinstance(paths, (str, bytes, os.PathLike)) else list(paths)
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("no files to read")
    every = None if partition_bytes is None else dask.utils.parse_bytes(partition_bytes)
    if every is not None and every < 1:
        raise ValueError(f"partition_bytes must be at least 1 byte, not {partition_bytes!r}")
    parts = []
    for path in paths:
        grouped = options.get("grouped")
        if grouped is None and every is not None:
            grouped = declares_grouped(path)
        if grouped and every is not None and os.path.getsize(path) > every:
            parts += [(path, part) for part in byte_ranges(path, every)]
        else:
            parts.append((path, None))
    return dask.bag.from_sequence(parts, partition_size=1).map_partitions(_read, options)


def _read(parts, options):
    in_range = {k: v for k, v in options.items() if k != "grouped"}
    for path, part in parts:
        if part is None:
            yield from sampler(path, **options)
        else:
            yield from sampler_range(path, part, **in_range)
