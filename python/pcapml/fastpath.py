"""The two hot loops: index a file (scan) and read its packets (read_runs).

Both take the common block inline: a little-endian EPB on an interface with
nanosecond timestamps whose first option is the same comment as the packet
before. One struct call reads the previous block's trailer and this block's
header; one slice comparison checks the comment. Everything else (other blocks,
a new comment, the end of the buffer) goes to Reader.block(), the careful path.
The loops are inlined because, at about a microsecond a packet, any function
call per packet would show in the figures of bench/sampler_bench.py.

A run is a stretch of consecutive packets with the same comment (and, when
reading, the same link type): the unit both loops hand back.
"""
import struct
from array import array

# Previous trailer, type, length, interface, time high, time low, captured length.
_u7 = struct.Struct("<7I").unpack_from
_u5 = struct.Struct("<4I8xI").unpack_from  # the same without the time, for the index pass
_u32 = struct.Struct("<I").unpack_from
_NO_RUN = object()  # a comment value no packet has


def _fast_key(comment, section):
    """(bytes the fast loops compare at the first option, their length) for a comment."""
    if comment is None or section.order != "<" or len(comment) > 0xFFFF:
        return None, 0  # never equal to a slice: such packets take the careful path
    return b"\x01\x00" + len(comment).to_bytes(2, "little") + comment, len(comment) + 4


class Index:
    """Where each sample's runs are: sid -> array of (section, start, stop, idx, count)."""

    def __init__(self, sections):
        self.sections = sections
        self.runs = {}  # in order of first appearance
        self.labels = {}  # sid -> metadata of the sample's first packet

    def add(self, parsed, section, start, stop, idx, count):
        if parsed is None:
            return  # unlabeled packets belong to no sample
        sid, label = parsed
        runs = self.runs.get(sid)
        if runs is None:
            runs = self.runs[sid] = array("q")
            self.labels[sid] = label
        runs.extend((section, start, stop, idx, count))


def scan(rd, lookup):
    """Pass 1: index the file from rd.pos to its end without copying any packet."""
    index = Index(rd.sections)
    key, cur, k, fif = _NO_RUN, None, 0, -1
    section = start = stop = idx = count = 0
    buf, pos, u5 = rd.buf, rd.pos, _u5
    prev = _u32(buf, pos - 4)[0]
    while True:
        end, k4 = len(buf), k + 4
        lim, first = end - 28, pos
        while pos <= lim:
            t, bt, bl, ifid, cl = u5(buf, pos - 4)
            nxt = pos + bl
            if t != prev or bt != 6 or ifid != fif or nxt > end:
                break
            o = pos + (cl + 31 & -4)  # the first option: after the 28-byte header and padded data
            if o + k4 > nxt or buf[o:o + k] != cur:
                break
            prev, pos = bl, nxt
            count += 1
        if pos != first:
            stop = rd.base + pos
        rd.pos = pos
        rd.check_trailer(prev)
        if rd.at_end():
            break
        if not rd.more():
            offset, n_sections = rd.offset, len(rd.sections)
            found = rd.block()
            # A run ends at a new comment, and at a new section, so it has one section's state.
            if len(rd.sections) != n_sections or (found is not None and found[5] != key):
                if count:
                    index.add(lookup(key), section, start, stop, idx, count)
                idx, count, key, cur, fif = idx + count, 0, _NO_RUN, None, -1
            if found is not None:
                ifid, iface, _, _, _, comment = found
                if count == 0:
                    key, section, start = comment, len(rd.sections) - 1, offset
                    cur, k = _fast_key(comment, rd.section)
                count, stop = count + 1, rd.offset
                fif = ifid if iface.fast else -1
        buf, pos = rd.buf, rd.pos
        prev = _u32(buf, pos - 4)[0]
    if count:
        index.add(lookup(key), section, start, stop, idx, count)
    return index


def read_runs(rd, idx, lookup, checked=False):
    """Pass 2: labeled runs from rd.pos up to rd.stop, as tuples
    (sid, metadata, offset, first idx, link type, ts_ns list, data list).

    checked: the range is one run of the index, whose trailers and comments
    scan() has already compared, so the loop need not compare them again.
    """
    key, cur, k, fif, link_type, parsed = _NO_RUN, None, 0, -1, None, None
    tss, pks, offset = [], [], 0
    buf, pos, u7 = rd.buf, rd.pos, _u7
    prev = _u32(buf, pos - 4)[0]
    while True:
        end = min(len(buf), rd.stop - rd.base)
        lim, k4 = end - 28, k + 4
        tapp, papp = tss.append, pks.append
        while checked and pos <= lim:
            _, bt, bl, ifid, th, tl, cl = u7(buf, pos - 4)
            nxt = pos + bl
            if bt != 6 or ifid != fif or nxt > end:
                break
            papp(buf[pos + 28:pos + 28 + cl])
            tapp(th << 32 | tl)
            prev, pos = bl, nxt
        while pos <= lim:
            t, bt, bl, ifid, th, tl, cl = u7(buf, pos - 4)
            nxt = pos + bl
            if t != prev or bt != 6 or ifid != fif or nxt > end:
                break
            o = pos + (cl + 31 & -4)
            if o + k4 > nxt or buf[o:o + k] != cur:
                break
            papp(buf[pos + 28:pos + 28 + cl])
            tapp(th << 32 | tl)
            prev, pos = bl, nxt
        rd.pos = pos
        rd.check_trailer(prev)
        if rd.at_end():
            break
        if not rd.more():
            here, n_sections = rd.offset, len(rd.sections)
            found = rd.block()
            if len(rd.sections) != n_sections:  # interface ids start again
                key, cur, fif = _NO_RUN, None, -1
            if found is not None:
                ifid, iface, ts_ns, _, data, comment = found
                if comment != key or iface.link_type != link_type:
                    if pks:
                        yield (*parsed, offset, idx, link_type, tss, pks)
                        idx += len(pks)
                    tss, pks, offset = [], [], here
                    key, link_type, parsed = comment, iface.link_type, lookup(comment)
                    cur, k = _fast_key(comment, rd.section) if parsed else (None, 0)
                if parsed:
                    pks.append(data)
                    tss.append(ts_ns)
                else:
                    idx += 1  # unlabeled: counted, not kept
                fif = ifid if iface.fast and parsed else -1
        buf, pos = rd.buf, rd.pos
        prev = _u32(buf, pos - 4)[0]
    if pks:
        yield (*parsed, offset, idx, link_type, tss, pks)
