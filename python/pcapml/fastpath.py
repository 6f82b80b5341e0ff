"""The two hot loops: index a file (scan) and read its packets (read_runs).

Both take the common block inline: a little-endian EPB on an interface with
nanosecond timestamps whose options are exactly the comment of the packet
before and opt_endofopt. Everything else (other blocks, a new comment, the end
of the buffer) goes to Reader.block(), the careful path, so both share one
definition of the format.

One struct call per packet reads the end of the block before (its comment,
opt_endofopt and trailer) together with this block's header; the block's length
then says where its own comment must start. So a packet's comment is checked by
the next packet's struct call, and the last packet of a loop by one slice
comparison after it; a packet whose comment turns out different is taken back
and left to the careful path. The loops are inlined because, at about a
microsecond a packet, any function call or integer operation per packet shows
in the figures of bench/sampler_bench.py.

A run is a stretch of consecutive packets with the same comment (and, when
reading, the same link type): the unit both loops hand back.
"""
import struct
from array import array

_u7 = struct.Struct("<7I").unpack_from  # trailer, type, length, interface, time high, low, captured
_u32 = struct.Struct("<I").unpack_from
_NO_RUN = object()  # a comment value no packet has
_FUSED = {}  # k4 -> the read and index loops' struct calls for a comment option of k4 - 4 bytes


def _fast_key(rd, comment):
    """(the bytes a run's blocks end their options with, their length, the two fused
    struct calls) for a comment; the reader keeps enough bytes before each block."""
    if comment is None or rd.section.order != "<" or len(comment) > 0xFFFF:
        rd.keep = 4
        return None, 0, None, None  # never equal to what the loops read: the careful path
    tail = (b"\x01\x00" + len(comment).to_bytes(2, "little") + comment
            + bytes(-len(comment) % 4) + bytes(4))  # opt_comment, padding, opt_endofopt
    k4 = len(tail)
    rd.keep = k4 + 4
    fused = _FUSED.get(k4)
    if fused is None:
        # The block before: its comment and opt_endofopt (k4 bytes), its trailer;
        # this block: type, length, interface, time high, time low, captured length.
        fused = _FUSED[k4] = (struct.Struct(f"<{k4}s7I").unpack_from,
                              struct.Struct(f"<{k4}s4I8xI").unpack_from)
    return tail, k4, *fused


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
    key, tail, k4, fif, u6 = _NO_RUN, None, 0, -1, None
    section = start = stop = idx = count = 0
    while True:
        buf, pos = rd.buf, rd.pos
        prev = _u32(buf, pos - 4)[0]
        c = pos - k4 - 4  # where the block before has its comment, if it is the run's
        if tail is not None and c >= 0:
            end = len(buf)
            lim, endk, d0, d3 = end - k4 - 28, end - k4 - 4, k4 + 32, k4 + 35
            n0, cm = count, tail
            while c <= lim:
                cm, t, bt, bl, ifid, cl = u6(buf, c)
                if cm != tail:
                    break
                nc = c + bl
                if t != prev or bt != 6 or ifid != fif or nc > endk or not d0 <= bl - cl <= d3 or bl & 3:
                    break
                prev, c = bl, nc
                count += 1
            else:
                if buf[c:c + k4] != tail:  # the last block's own comment: nothing reads it after
                    cm = None
            pos = c + k4 + 4
            if cm != tail and count > n0:  # the last block counted is not the run's after all
                count -= 1
                pos -= prev
                prev = _u32(buf, pos - 4)[0]
            if count > n0:
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
                idx, count, key, tail, fif = idx + count, 0, _NO_RUN, None, -1
            if found is not None:
                ifid, iface, _, _, _, comment = found
                if count == 0:
                    key, section, start = comment, len(rd.sections) - 1, offset
                    tail, k4, _, u6 = _fast_key(rd, comment)
                count, stop = count + 1, rd.offset
                fif = ifid if iface.fast else -1
    if count:
        index.add(lookup(key), section, start, stop, idx, count)
    return index


def read_runs(rd, idx, lookup, checked=False):
    """Pass 2: labeled runs from rd.pos up to rd.stop, as tuples
    (sid, metadata, offset, first idx, link type, ts_ns list, data list).

    checked: the range is one run of the index, whose trailers and comments
    scan() has already compared, so the loop need not compare them again.
    """
    key, tail, k4, fif, link_type, parsed, u8 = _NO_RUN, None, 0, -1, None, None, None
    tss, pks, offset = [], [], 0
    while True:
        buf, pos = rd.buf, rd.pos
        end = min(len(buf), rd.stop - rd.base)
        prev = _u32(buf, pos - 4)[0]
        tapp, papp = tss.append, pks.append
        if checked:
            lim = end - 28
            while pos <= lim:
                _, bt, bl, ifid, th, tl, cl = _u7(buf, pos - 4)
                nxt = pos + bl
                if bt != 6 or ifid != fif or nxt > end:
                    break
                papp(buf[pos + 28:pos + 28 + cl])
                tapp(th << 32 | tl)
                prev, pos = bl, nxt
        c = pos - k4 - 4  # where the block before has its comment, if it is the run's
        if tail is not None and c >= 0:
            lim, endk, d0, d3 = end - k4 - 28, end - k4 - 4, k4 + 32, k4 + 35
            n0, cm = len(pks), tail
            while c <= lim:
                cm, t, bt, bl, ifid, th, tl, cl = u8(buf, c)
                if cm != tail:
                    break
                nc = c + bl
                if t != prev or bt != 6 or ifid != fif or nc > endk or not d0 <= bl - cl <= d3 or bl & 3:
                    break
                s = c + d0
                papp(buf[s:s + cl])
                tapp(th << 32 | tl)
                prev, c = bl, nc
            else:
                if buf[c:c + k4] != tail:  # the last block's own comment: nothing reads it after
                    cm = None
            pos = c + k4 + 4
            if cm != tail and len(pks) > n0:  # the last packet taken is not the run's after all
                del pks[-1], tss[-1]
                pos -= prev
                prev = _u32(buf, pos - 4)[0]
        rd.pos = pos
        rd.check_trailer(prev)
        if rd.at_end():
            break
        if not rd.more():
            here, n_sections = rd.offset, len(rd.sections)
            found = rd.block()
            if len(rd.sections) != n_sections:  # interface ids start again
                key, tail, fif = _NO_RUN, None, -1
            if found is not None:
                ifid, iface, ts_ns, _, data, comment = found
                if comment != key or iface.link_type != link_type:
                    if pks:
                        yield (*parsed, offset, idx, link_type, tss, pks)
                        idx += len(pks)
                    tss, pks, offset = [], [], here
                    key, link_type, parsed = comment, iface.link_type, lookup(comment)
                    tail, k4, u8, _ = _fast_key(rd, comment) if parsed else _fast_key(rd, None)
                if parsed:
                    pks.append(data)
                    tss.append(ts_ns)
                else:
                    idx += 1  # unlabeled: counted, not kept
                fif = ifid if iface.fast and parsed else -1
    if pks:
        yield (*parsed, offset, idx, link_type, tss, pks)
