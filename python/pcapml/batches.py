"""batches() and to_pandas(): labeled samples as numpy arrays and data frames.

numpy (Debian's python3-numpy) is imported when batches() is first called, and
pandas (python3-pandas) by to_pandas(), so the sampler itself needs neither.
"""
from . import native
from .labels import parse_meta
from .sampler import _label_test, declares_grouped, native_source, read_sids, sampler


def _coder(labels, classes):
    """(code_of(metadata) -> the sample's label code or -1 to leave it out, the names by code)."""
    test = _label_test(labels)
    names = list(classes) if classes is not None else []
    codes = {name: i for i, name in enumerate(names)}

    def code_of(metadata):
        if test is not None and not test(metadata):
            return -1
        name = parse_meta(metadata).get("label", "")
        code = codes.get(name)
        if code is None:
            if classes is not None:
                return -1
            code = codes[name] = len(names)
            names.append(name)
        return code

    return code_of, names


def batches(path, nbytes=128, limit=None, batch_size=256, max_packets=65536, labels=None, sids=None,
            classes=None, grouped=None):
    """Yield the samples of a labeled file as dicts of numpy arrays, batch_size
    samples (and at most max_packets packets) at a time, in file order.

    Per sample (arrays of the batch's samples):
      sample_id       uint64   the sampleID
      label           int32    the label's code: an index into label_names
      label_names     list     label (meta['label']) of each code, first seen first,
                               or `classes` when given
      link_type       int32    LINKTYPE_* of the sample's first packet
      sample_packets  int64    how many of its packets are in this batch
    Per packet (rows in file order, sample by sample):
      sample_index    int32    which sample of the batch the packet belongs to
      ts_ns           int64    timestamp in nanoseconds
      caplen          uint32   captured length
      data            uint8    [packets, nbytes]: the packet's first nbytes bytes, zero-padded

    nbytes: bytes of each packet kept (the rest is cut, shorter ones padded).
    limit: at most this many packets per sample (its first ones).
    labels, sids, grouped: as for sampler(); sids may be a file of sampleIDs.
    classes: label names in code order; samples with another label are left out.
    A sample with more packets than max_packets goes on in the next batch, which
    then starts with the same sample_id.
    """
    if nbytes < 1 or batch_size < 1 or max_packets < 1 or (limit is not None and limit < 1):
        raise ValueError("nbytes, batch_size, max_packets and limit must be at least 1")
    if grouped is None:
        grouped = declares_grouped(path)
    sids = None if sids is None else read_sids(sids)
    code_of, names = _coder(labels, classes)
    if native.NATIVE is not None:
        source = native_source(native.NATIVE.Batches, path, grouped, sids, code_of, limit or 0,
                               batch_size, max_packets, nbytes)
    else:
        source = _python_batches(sampler(path, sids=sids, limit=limit, grouped=grouped), code_of,
                                 nbytes, batch_size, max_packets)
    return _named(source, names)


def _named(source, names):
    for batch in source:
        batch["label_names"] = list(names)
        yield batch


def _python_batches(samples, code_of, nbytes, batch_size, max_packets):
    """What the native module's Batches gives, from sampler()'s samples."""
    import numpy as np

    def take(sample, first, count, s, rows):
        for i in range(first, first + count):
            buf = sample[i][4]
            rows.append((s, sample.ts_ns(i), len(buf), buf[:nbytes]))

    current, done = None, 0
    samples = iter(samples)
    while True:
        heads, rows = [], []
        while len(heads) < batch_size and len(rows) < max_packets:
            if current is None:
                for sample in samples:
                    code = code_of(sample.label)
                    if code >= 0:
                        current, done = (sample, code), 0
                        break
                else:
                    break
            sample, code = current
            count = min(len(sample) - done, max_packets - len(rows))
            take(sample, done, count, len(heads), rows)
            heads.append((sample.sid, code, sample.link_type, count))
            done += count
            if done == len(sample):
                current = None
        if not heads:
            return
        data = np.zeros((len(rows), nbytes), np.uint8)
        for r, (_, _, _, buf) in enumerate(rows):
            data[r, :len(buf)] = np.frombuffer(buf, np.uint8)
        yield {
            "sample_id": np.array([h[0] for h in heads], np.uint64),
            "label": np.array([h[1] for h in heads], np.int32),
            "link_type": np.array([h[2] for h in heads], np.int32),
            "sample_packets": np.array([h[3] for h in heads], np.int64),
            "sample_index": np.array([r[0] for r in rows], np.int32),
            "ts_ns": np.array([(r[1] + 2**63) % 2**64 - 2**63 for r in rows], np.int64),  # as C++ cuts to 64 bits
            "caplen": np.array([r[2] for r in rows], np.uint32),
            "data": data,
        }


def to_pandas(path, labels=None, sids=None, limit=None, grouped=None):
    """A pandas DataFrame of a (small) labeled file, one row per labeled packet, sample
    by sample: sample_id, label (the metadata string), idx, ts (seconds), ts_ns,
    link_type, caplen and data (the packet's bytes)."""
    import pandas as pd

    columns = {name: [] for name in ("sample_id", "label", "idx", "ts", "ts_ns", "link_type", "caplen", "data")}
    for sample in sampler(path, labels=labels, sids=sids, limit=limit, grouped=grouped):
        for i, (idx, sid, label, ts, buf) in enumerate(sample):
            for name, value in zip(columns, (sid, label, idx, ts, sample.ts_ns(i), sample.link_type_of(i),
                                             len(buf), buf)):
                columns[name].append(value)
    frame = pd.DataFrame(columns)
    return frame.astype({"sample_id": "uint64", "idx": "int64", "ts_ns": "int64", "link_type": "int32",
                         "caplen": "uint32"})
