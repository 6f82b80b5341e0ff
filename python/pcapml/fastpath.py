"""The hot loops: index a file (scan), read the runs it took (read_taken), and
read a file or a range of it front to back (read_runs).

They take the common block inline: a little-endian EPB on an interface with
nanosecond timestamps whose options are exactly one comment and opt_endofopt,
the layout pcapml writes. Everything else (other blocks, other options, the end
of the buffer) goes to Reader.block(), the careful path, so all share one
definition of the format. The loops are inlined because, at about a
microsecond a packet, any function call or integer operation per packet shows
in the figures of bench/sampler_bench.py.

A run is a stretch of consecutive packets with the same comment (and, when
reading, the same link type): the unit the loops hand back.

scan() reads each block's options as bytes and compares them with the run's;
when they differ it looks them up (once per distinct comment), so samples
interleaved packet by packet never leave its loop. read_taken() reads runs
scan() has checked, without checking them again.

read_runs() is the one-pass reader of grouped files, made for long runs: one
struct call per packet reads the end of the block before (its comment,
opt_endofopt and trailer) together with this block's header, and the block's
length then says where its own comment must start. So a packet's comment is
checked by the next packet's struct call, and the last packet of a loop by one
slice comparison after it; a packet whose comment turns out different is taken
back and left to the careful path.
"""
import struct
from array import array

from .reader import MAX_TS_NS

_u7 = struct.Struct("<7I").unpack_from  # trailer, type, length, interface, time high, low, captured
_u6 = struct.Struct("<5I4xI").unpack_from  # trailer, type, length, interface, time high, captured length
_h4 = struct.Struct("<4xI4x3I").unpack_from  # length, time high, time low, captured length
_u32 = struct.Struct("<I").unpack_from
# The high word of the latest nanosecond time the reader accepts (MAX_TS_NS >> 32,
# whose low word is all ones): a packet above it, or longer than its interface's
# snap length, goes to the careful path, which refuses it.
_HIGH_MAX = MAX_TS_NS >> 32
_NO_RUN = object()  # a comment value no packet has
_NOT_FAST = object()  # what scan() knows of options other than one comment
_FUSED = {}  # k4 -> read_runs()'s struct call for a comment option of k4 - 4 bytes


def _fused(k4):
    """read_runs()'s struct call for runs whose options take k4 bytes: the block
    before's options and trailer, then this block's type, length, interface,
    time high, time low and captured length."""
    fused = _FUSED.get(k4)
    if fused is None:
        fused = _FUSED[k4] = struct.Struct(f"<{k4}s7I").unpack_from
    return fused


def _fast_key(rd, comment):
    """(the options of a run's blocks: opt_comment and opt_endofopt, their length,
    read_runs()'s struct call) for a comment; the reader keeps enough bytes
    before each block."""
    if comment is None or rd.section.order != "<" or len(comment) > 0xFFFF:
        rd.keep = 4
        return None, 0, None  # never equal to what the loops read: the careful path
    tail = (b"\x01\x00" + len(comment).to_bytes(2, "little") + comment
            + bytes(-len(comment) % 4) + bytes(4))  # opt_comment, padding, opt_endofopt
    rd.keep = len(tail) + 4
    return tail, len(tail), _fused(len(tail))


def _comment_of_tail(tail):
    """The raw comment if a block's options `tail` are exactly one opt_comment
    (zero padded or not) and an all-zero opt_endofopt, the layout the loops
    take; else None."""
    if len(tail) < 8 or tail[:2] != b"\x01\x00" or tail[-4:] != b"\0\0\0\0":
        return None
    n = tail[2] | tail[3] << 8
    if (n + 3 & -4) + 8 != len(tail):
        return None
    return tail[4:4 + n]


class Index:
    """Where each sample's runs are: sid -> array of (section, start, stop, idx, count, ifid).

    ifid >= 0 marks a run scan() took whole in its loop: `count` EPBs on that
    interface, each with the sample's first metadata as its only option, so
    read_taken() may read it without checking again. -1: any other run.
    """

    FIELDS = 6

    def __init__(self, sections):
        self.sections = sections
        self.runs = {}  # in order of first appearance
        self.labels = {}  # sid -> metadata of the sample's first packet

    def add(self, parsed, section, start, stop, idx, count, ifid):
        if parsed is None:
            return  # unlabeled packets belong to no sample
        sid, label = parsed
        runs = self.runs.get(sid)
        if runs is None:
            runs = self.runs[sid] = array("q")
            self.labels[sid] = label
        elif label != self.labels[sid]:
            ifid = -1  # read_runs() takes each packet's own metadata
        runs.extend((section, start, stop, idx, count, ifid))


def scan(rd, lookup):
    """Pass 1: index the file from rd.pos to its end without copying any packet.

    A run of the index is either blocks the loop below takes (EPBs on one
    nanosecond little-endian interface whose options are the same single
    comment), or blocks Reader.block() parsed, with the same comment. The loop
    starts a new run itself when only the comment changes, so a file whose
    samples are interleaved packet by packet never leaves it.
    """
    index = Index(rd.sections)
    tails = {}  # a block's options -> its label, None (not a label) or _NOT_FAST
    key, tail, fif, parsed, cap = _NO_RUN, None, -1, None, 0
    section = start = stop = idx = count = 0
    runs_of, labels = index.runs, index.labels
    while True:
        buf, pos, base = rd.buf, rd.pos, rd.base
        prev = _u32(buf, pos - 4)[0]
        lim, end, at_section = len(buf) - 28, len(buf), len(rd.sections) - 1
        fast = {i: iface.cap for i, iface in enumerate(rd.section.interfaces) if iface.fast} if rd.section else {}
        while pos <= lim:
            t, bt, bl, ifid, th, cl = _u6(buf, pos - 4)
            nxt = pos + bl
            if t != prev or bt != 6 or nxt > end:
                break
            # Empty if the data runs past them; one comment and opt_endofopt, as
            # _comment_of_tail() wants them, only if the length is a multiple of 4.
            opts = buf[pos + (cl + 31 & -4):nxt - 4]
            if opts != tail or ifid != fif:
                label = tails.get(opts, _NO_RUN)
                if label is _NO_RUN:
                    comment = _comment_of_tail(opts)
                    label = _NOT_FAST if comment is None else lookup(comment)
                    if len(tails) < 1 << 16:
                        tails[opts] = label
                if label is _NOT_FAST or ifid not in fast:
                    break
                if count and parsed is not None:  # Index.add() inline for the common case
                    runs = runs_of.get(parsed[0])
                    if runs is not None and parsed[1] == labels[parsed[0]]:
                        runs.extend((section, start, base + pos, idx, count, fif))
                    else:
                        index.add(parsed, section, start, base + pos, idx, count, fif)
                idx, count, key, tail, fif, parsed = idx + count, 0, opts, opts, ifid, label
                section, start, cap = at_section, base + pos, fast[ifid]
            if cl > cap or th > _HIGH_MAX:
                break
            count += 1
            prev, pos = bl, nxt
        if tail is not None:
            stop = base + pos
        rd.pos = pos
        rd.check_trailer(prev)
        if rd.at_end():
            break
        if not rd.more():
            offset, n_sections = rd.offset, len(rd.sections)
            found = rd.block()
            # A run ends at a new comment or section (so it has one section's
            # state), and where the loop above stopped.
            if found is None or len(rd.sections) != n_sections or found[5] != key or tail is not None:
                if count:
                    index.add(parsed, section, start, stop, idx, count, fif)
                idx, count, key, tail, fif = idx + count, 0, _NO_RUN, None, -1
            if found is not None:
                comment = found[5]
                if count == 0:
                    key, parsed, section, start = comment, lookup(comment), len(rd.sections) - 1, offset
                count, stop = count + 1, rd.offset
    if count:
        index.add(parsed, section, start, stop, idx, count, fif)
    return index


def read_taken(rd, starts, stops, counts, tss, pks):
    """Append the times and data of runs scan() took in its loop to tss and pks:
    `count` EPBs from file offset start to stop, each run read in one go and not
    checked again but for where it ends."""
    tapp, papp = tss.append, pks.append
    for start, stop, count in zip(starts, stops, counts):
        buf, pos = rd.read_at(start, stop), 0
        try:
            for _ in range(count):
                bl, th, tl, cl = _h4(buf, pos)
                papp(buf[pos + 28:pos + 28 + cl])
                tapp(th << 32 | tl)
                pos += bl
        except struct.error:  # past the end of what was read
            pos = -1
        if pos != stop - start:
            raise rd.error(start, "the file changed between the index pass and the read pass")


def read_runs(rd, idx, lookup):
    """Labeled runs from rd.pos up to rd.stop, as tuples
    (sid, metadata, offset, first idx, link type, ts_ns list, data list).
    """
    key, tail, k4, fif, link_type, parsed, u8, cap = _NO_RUN, None, 0, -1, None, None, None, 0
    tss, pks, offset = [], [], 0
    while True:
        buf, pos = rd.buf, rd.pos
        end = min(len(buf), rd.stop - rd.base)
        prev = _u32(buf, pos - 4)[0]
        tapp, papp = tss.append, pks.append
        c = pos - k4 - 4  # where the block before has its comment, if it is the run's
        if tail is not None and c >= 0:
            lim, endk, d0, d3 = end - k4 - 28, end - k4 - 4, k4 + 32, k4 + 35
            n0, cm = len(pks), tail
            while c <= lim:
                cm, t, bt, bl, ifid, th, tl, cl = u8(buf, c)
                if cm != tail:
                    break
                nc = c + bl
                if (t != prev or bt != 6 or ifid != fif or nc > endk or not d0 <= bl - cl <= d3 or bl & 3
                        or cl > cap or th > _HIGH_MAX):
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
            if pos <= end - 28:
                # Most often the block here is the next sample's first packet, as
                # the loop takes them but for its comment: then it starts the next run.
                t, bt, bl, ifid, th, tl, cl = _u7(buf, pos - 4)
                nxt = pos + bl
                if (t == prev and bt == 6 and ifid == fif and nxt <= end and _u32(buf, nxt - 4)[0] == bl
                        and cl <= cap and th <= _HIGH_MAX):
                    opts = buf[pos + (cl + 31 & -4):nxt - 4]
                    comment = _comment_of_tail(opts)
                    label = comment and lookup(comment)
                    if label:
                        if pks:
                            yield (*parsed, offset, idx, link_type, tss, pks)
                            idx += len(pks)
                        tss, pks, offset = [th << 32 | tl], [buf[pos + 28:pos + 28 + cl]], rd.base + pos
                        key, parsed, tail, k4, u8 = comment, label, opts, len(opts), _fused(len(opts))
                        rd.keep, rd.pos = k4 + 4, nxt
                        continue
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
                    tail, k4, u8 = _fast_key(rd, comment if parsed else None)
                if parsed:
                    pks.append(data)
                    tss.append(ts_ns)
                else:
                    idx += 1  # unlabeled: counted, not kept
                fif, cap = (ifid, iface.cap) if iface.fast and parsed else (-1, 0)
    if pks:
        yield (*parsed, offset, idx, link_type, tss, pks)
