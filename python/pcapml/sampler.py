"""sampler(): a labeled pcapng file, one sample at a time."""
import os
import struct
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate, chain, repeat
from operator import add, sub, truediv

from .fastpath import Index, read_runs, read_taken, scan
from .labels import LabelCache, parse_meta
from . import native
from .reader import FormatError, Reader, compressed_problem


class Sample(Sequence):
    """The packets of one sample: (idx, sid, label, ts, pkt_buf) tuples in file order.

    idx is the packet's position among all packets of the file (unlabeled ones
    included), ts is in seconds; ts_ns(i) is packet i's exact time in nanoseconds.
    With the native module, packets are read from the file when they are used,
    so a sample of millions of packets costs no memory until it is read.
    """

    __slots__ = ("sid", "label", "_rows")

    def __init__(self, sid, label, rows):
        self.sid, self.label, self._rows = sid, label, rows

    def __len__(self):
        return len(self._rows)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._rows[j] for j in range(*i.indices(len(self._rows)))]
        return self._rows[i]

    def __iter__(self):
        return iter(self._rows)

    def __eq__(self, other):
        if not isinstance(other, (Sample, list, tuple)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def __repr__(self):
        return f"<Sample {self.sid} {self.label!r}: {len(self)} packets>"

    def __reduce__(self):
        # A pickled sample (to a DataLoader or Dask worker) carries its packets, not the file.
        return _restore, (self.sid, self.label, list(self), self.timestamps_ns(), self._rows.link_type_changes())

    def ts_ns(self, i):
        """Exact timestamp of packet i in nanoseconds."""
        return self._rows.ts_ns(i)

    def timestamps_ns(self):
        return self._rows.timestamps_ns()

    @property
    def meta(self):
        """The metadata's fields as a dict; meta['label'] is the sample's label."""
        return parse_meta(self.label)

    @property
    def link_type(self):
        """LINKTYPE_* of the sample's first packet."""
        return self._rows.link_type

    def link_type_of(self, i):
        """LINKTYPE_* of packet i (a sample's packets can come from several interfaces)."""
        return self._rows.link_type_of(i)


def _restore(sid, label, rows, timestamps, link_types):
    rows = _Rows(rows)
    rows._ts_ns, rows._link_types = timestamps, link_types
    return Sample(sid, label, rows)


class _Rows(list):
    """A sample's packets read into memory (the pure-Python reader's Sample storage)."""

    __slots__ = ("_ts_ns", "_link_types")

    def link_type_changes(self):
        return list(self._link_types)

    def ts_ns(self, i):
        return self._ts_ns[i]

    def timestamps_ns(self):
        return list(self._ts_ns)

    @property
    def link_type(self):
        return self._link_types[0][1]

    def link_type_of(self, i):
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("sample index out of range")
        found = None
        for first, link_type in self._link_types:
            if first > i:
                break
            found = link_type
        return found


def _sample(sid, runs, tss, pks, limit):
    """A Sample of the packets in tss and pks (lists of times and data, which it may
    shorten); runs: (metadata, first idx, link type, count) of each stretch of them."""
    metas, firsts, link_types, counts = zip(*runs)
    return _columns_sample(sid, metas, firsts, counts, _link_type_changes(link_types, counts),
                           tss, pks, limit)


def _link_type_changes(link_types, counts):
    """[(first packet, link type)] where the link type changes, from per-run values."""
    if link_types.count(link_types[0]) == len(link_types):
        return [(0, link_types[0])]
    changes, first = [], 0
    for link_type, count in zip(link_types, counts):
        if not changes or changes[-1][1] != link_type:
            changes.append((first, link_type))
        first += count
    return changes


def _columns_sample(sid, metas, firsts, counts, link_types, tss, pks, limit):
    """A Sample from its runs' metadata, first idx and packet counts, a column each,
    its link type changes, and its packets' times and data (lists it may shorten)."""
    n, label = len(pks), metas[0]
    if limit is not None and n > limit:
        del tss[limit:], pks[limit:]
        n = limit
        ends = list(accumulate(counts))
        last = bisect_left(ends, n)  # the run that holds packet n - 1
        metas, firsts, counts = metas[:last + 1], firsts[:last + 1], list(counts[:last + 1])
        counts[-1] -= ends[last] - n
        link_types = [change for change in link_types if change[0] < n]
    if len(firsts) == 1:
        idxs = range(firsts[0], firsts[0] + n)
    else:
        idxs = chain.from_iterable(map(range, firsts, map(add, firsts, counts)))
    if metas.count(label) == len(metas):
        labels = repeat(label)
    else:  # one sampleID, several metadata strings: each packet keeps its own
        labels = chain.from_iterable(map(repeat, metas, counts))
    rows = _Rows(zip(idxs, repeat(sid), labels, map(truediv, tss, repeat(1e9)), pks))
    rows._ts_ns, rows._link_types = tss, link_types
    return Sample(sid, label, rows)


def read_sids(source):
    """The sampleIDs of a file with one a line (as `pcapml ids` writes train.txt),
    or of a collection of ints or strings; a set of ints."""
    if not isinstance(source, (str, bytes, os.PathLike)):
        return {int(s) for s in source}
    found = set()
    with open(source) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                try:
                    found.add(int(line))
                except ValueError:
                    raise ValueError(f"{os.fspath(source)}:{n}: not a sampleID: {line!r}") from None
    return found


def _label_test(labels):
    """None (every label), or a function of a metadata string saying if the sample is wanted."""
    if labels is None or callable(labels):
        return labels and (lambda label: bool(labels(label)))
    if isinstance(labels, str):
        labels = [labels]
    labels = set(labels)
    return lambda label: label in labels or parse_meta(label).get("label") in labels


def _selector(labels, sids):
    """Whether a sample (sid, metadata) is wanted, from the sampler's options."""
    if sids is not None:
        sids = read_sids(sids)
    test = _label_test(labels)

    def wanted(sid, label):
        if sids is not None and sid not in sids:
            return False
        return test is None or test(label)

    return wanted


GROUPED_COMMENT = b"pcapml: grouped by sample"
SPAN = 1 << 20  # runs up to this size are read in one piece, longer ones a buffer at a time


def declares_grouped(path):
    """True if the file's first section header carries pcapml's promise that
    each sample's packets are contiguous (written by `pcapml -D` and `pcapml -s`)."""
    with open(path, "rb") as f:
        head = f.read(65536)
    if len(head) < 28 or head[:4] != b"\x0a\x0d\x0d\x0a":
        return False
    order = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    (blen,) = struct.unpack_from(order + "I", head, 4)
    pos, end = 24, min(blen - 4, len(head))
    while pos + 4 <= end:
        code, olen = struct.unpack_from(order + "HH", head, pos)
        if code == 0:
            break
        if code == 1 and head[pos + 4:pos + 4 + olen] == GROUPED_COMMENT:
            return True
        pos += 4 + ((olen + 3) & ~3)
    return False


def sampler(path, labels=None, sids=None, limit=None, grouped=None):
    """Yield the labeled samples of a pcap/pcapng file, one Sample at a time.

    Samples come in the order of their first packet. Packets without a pcapml
    label are skipped (read_packets() yields every packet).

    labels: a label or collection of labels (a sample matches on its first
        metadata field or the whole metadata string), or a predicate called
        with the metadata string.
    sids:   sampleIDs to keep: a collection, or the name of a file with one
        a line (a published split, e.g. `pcapml ids` train.txt).
    limit:  at most this many packets per sample (the first ones).
    grouped: True for files that keep each sample's packets together
        (`pcapml -D` and `pcapml -s` write such files and say so in their
        section header; None, the default, reads that promise). The file is
        then read once, front to back; a sample that shows up again after
        another one raises FormatError. Otherwise a first pass indexes where
        each sample's packets are, so any file works, in memory bounded by the
        index: with the native module 32 bytes per run of consecutive packets
        of one sample (packets are read when used); without it, the largest
        sample plus 48 bytes per run.
    """
    if grouped is None:
        grouped = declares_grouped(path)
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    if native.NATIVE is not None:
        test = _label_test(labels)
        return _native_samples(path, None if sids is None else read_sids(sids),
                               test and (lambda label: 0 if test(label) else -1), limit, grouped)
    return _samples(path, _selector(labels, sids), limit, grouped)


def native_source(cls, path, grouped, *args):
    """A native reader of path (Samples or Batches); opening the file first
    raises the same OSError as the pure-Python reader."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        problem = compressed_problem(f.read(4))
    if problem:
        raise FormatError(path, 0, problem)
    return cls(path, os.fsencode(path), grouped, *args)


def _native_samples(path, sids, keep, limit, grouped, part=None):
    for rows in native_source(native.NATIVE.Samples, path, grouped, sids, keep, limit or 0, part):
        yield Sample(rows.sid, rows.label, rows)


def byte_ranges(path, every):
    """Where a file grouped by sample can be cut into byte ranges of whole
    samples, each `every` bytes or more (the last one maybe less): a list of
    (start, stop, prefix_end, first_idx), in file order, that sampler_range()
    reads. One pass over the file (the sample index), which checks that it is
    grouped: a sample seen again after another one raises FormatError.

    Ranges but the first begin at a sample's first packet, after the last
    block that is not a packet (the section header and interfaces, whose
    blocks end before prefix_end); first_idx is the number of the first
    packet among all packets of the file (idx of the seed's tuples). A
    compressed file (gzip, zstd: read natively) is one range, to its end:
    its offsets are not the file's.
    """
    if every < 1:
        raise ValueError("every must be at least 1 byte")
    path = os.fspath(path)
    with open(path, "rb") as f:  # the pure-Python reader's OSError
        head = f.read(4)
    if native.NATIVE is not None and head[:2] in (b"\x1f\x8b", b"\x28\xb5"):
        return [(0, (1 << 64) - 1, 0, 0)]
    if native.NATIVE is not None:
        prefix_end, end, cuts = native.NATIVE.cuts(path, os.fsencode(path), every)
    else:
        prefix_end, end, cuts = _python_cuts(path, every)
    starts = [(0, 0)] + cuts
    stops = [c[0] for c in cuts] + [end]
    return [(start, stop, prefix_end, idx) for (start, idx), stop in zip(starts, stops)]


def _python_cuts(path, every):
    """What the native module's cuts() gives: (prefix_end, end, [(offset, idx)])."""
    lookup, starts, done, sid = LabelCache(), [], set(), None
    after_gap = expect = idx = 0
    with Reader(path) as rd:
        while not rd.at_end():
            offset = rd.offset
            found = rd.block()
            if found is None:
                continue
            if offset != expect:  # blocks other than packets before this one
                after_gap = offset
            expect, parsed = rd.offset, lookup(found[5])
            if parsed is not None and parsed[0] != sid:
                done.add(sid)
                if parsed[0] in done:
                    raise FormatError(rd.path, offset, f"sample {parsed[0]} appears again after other samples: "
                                      "the file is not grouped by sample (use grouped=False)")
                sid = parsed[0]
                starts.append((offset, idx))
            idx += 1
    cuts, last = [], 0
    for offset, first in starts[1:]:  # the first range holds the first sample and the blocks before it
        if offset >= after_gap and offset - last >= every:
            cuts.append((offset, first))
            last = offset
    return after_gap, expect, cuts


def sampler_range(path, part, labels=None, sids=None, limit=None):
    """The samples of one byte range of a grouped file, as byte_ranges() gives
    them: what sampler(path) yields, range by range. Options as for sampler()."""
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    part = tuple(int(v) for v in part)
    if native.NATIVE is not None:
        test = _label_test(labels)
        return _native_samples(path, None if sids is None else read_sids(sids),
                               test and (lambda label: 0 if test(label) else -1), limit, True, part)
    return _range_samples(path, _selector(labels, sids), limit, part)


def _range_samples(path, wanted, limit, part):
    start, stop, prefix_end, first_idx = part
    with Reader(path) as rd:
        if start > 0:
            while rd.offset < prefix_end and not rd.at_end():
                rd.block()  # the section header and interfaces
            rd.seek(start, stop, rd.section)
        else:
            rd.stop = stop
        yield from _stream(rd, wanted, LabelCache(), limit, first_idx)


def _samples(path, wanted, limit, grouped):
    # A generator apart from sampler(), so bad options fail at the call, not at the first sample.
    with Reader(path) as rd:
        if grouped:
            yield from _stream(rd, wanted, LabelCache(), limit)
        else:
            yield from _indexed(rd, wanted, LabelCache(), limit)


def _stream(rd, wanted, lookup, limit, first_idx=0):
    done, sid, runs, tss, pks = set(), None, [], None, None
    for run_sid, meta, offset, idx, link_type, run_tss, run_pks in read_runs(rd, first_idx, lookup):
        if run_sid != sid:
            if runs and wanted(sid, runs[0][0]):
                yield _sample(sid, runs, tss, pks, limit)
            done.add(sid)
            if run_sid in done:
                raise FormatError(rd.path, offset, f"sample {run_sid} appears again after other samples: "
                                  "the file is not grouped by sample (use grouped=False)")
            sid, runs, tss, pks = run_sid, [], run_tss, run_pks
        else:
            tss += run_tss
            pks += run_pks
        runs.append((meta, idx, link_type, len(run_pks)))
    if runs and wanted(sid, runs[0][0]):
        yield _sample(sid, runs, tss, pks, limit)


def _indexed(rd, wanted, lookup, limit):
    index = scan(rd, lookup)
    sections, width = index.sections, Index.FIELDS
    for sid, spans in index.runs.items():
        label = index.labels[sid]
        if not wanted(sid, label):
            continue
        if limit is not None:  # only the runs that hold the first `limit` packets
            spans = spans[:width * (bisect_left(list(accumulate(spans[4::width])), limit) + 1)]
        in_section, starts, stops, firsts, counts, ifids = (spans[i::width] for i in range(width))
        if (ifids.count(ifids[0]) == len(ifids) and ifids[0] >= 0
                and in_section.count(in_section[0]) == len(in_section) and max(map(sub, stops, starts)) <= SPAN):
            # Every run one scan() took in its loop, on one interface: its metadata, its link type.
            tss, pks = [], []
            read_taken(rd, starts, stops, counts, tss, pks)
            link_type = sections[in_section[0]].interfaces[ifids[0]].link_type
            yield _columns_sample(sid, (label,), firsts, counts, [(0, link_type)], tss, pks, limit)
            continue
        runs, tss, pks = [], [], []
        for section, start, stop, idx, n, ifid in zip(in_section, starts, stops, firsts, counts, ifids):
            if ifid >= 0 and stop - start <= SPAN:
                read_taken(rd, (start,), (stop,), (n,), tss, pks)
                runs.append((label, idx, sections[section].interfaces[ifid].link_type, n))
            else:
                rd.seek(start, stop, sections[section])
                for _, meta, _, first, link_type, run_tss, run_pks in read_runs(rd, idx, lookup):
                    tss += run_tss
                    pks += run_pks
                    runs.append((meta, first, link_type, len(run_pks)))
        yield _sample(sid, runs, tss, pks, limit)
