"""Reading pcap and pcapng files: the careful path, which handles every block.

Reader.block() parses one block (or classic pcap record) with every check the
format allows. The fast loops in fastpath.py handle the common block inline and
call it for everything else, so both share one definition of the format. It is
the C++ reader's (pcapio/reader.cc), which the native module reads with: the
same checks in the same order, the same messages and offsets.
"""
import os
import struct
from collections import namedtuple

from .labels import decode_comment, parse_comment

# Reads of a few hundred KiB keep the bytes being parsed in the CPU caches: 256
# KiB measured 3% faster than 64 KiB, as fast as 512 KiB, and 4 MiB about twice
# as slow over a 1 GB file (bench/sampler_bench.md).
CHUNK = 1 << 18

SHB, IDB, PB, SPB, EPB = 0x0A0D0D0A, 1, 2, 3, 6
MAX_BLOCK = 64 << 20  # the C++ reader's bound on a block or record (PacketReader::kMaxBlock)
MAX_CAPLEN = 262144  # and on a captured length (kMaxCaplen), never above the snap length either
MAX_TS_NS = (1 << 32) * 10**9 - 1  # packet times it accepts: what pcap and pcapng output can hold
TIME_RANGE = "1970-01-01..2106-02-07 (what pcap and pcapng output can hold)"
OPT_END, OPT_COMMENT, IF_NAME, IF_TSRESOL, IF_TSOFFSET = 0, 1, 2, 9, 14
_PCAP_MAGIC = {  # first four bytes -> (byte order, timestamp units per second)
    b"\xd4\xc3\xb2\xa1": ("<", 10**6), b"\xa1\xb2\xc3\xd4": (">", 10**6),
    b"\x4d\x3c\xb2\xa1": ("<", 10**9), b"\xa1\xb2\x3c\x4d": (">", 10**9),
}
_u32 = struct.Struct("<I").unpack_from


_COMPRESSED = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}  # leading bytes -> format


def compressed_problem(head):
    """What to say of a file starting with head if it is compressed, else None.
    pcapml's commands read gzip and zstd captures as they are; the Python
    readers read packets again by offset, which a compressed stream cannot do."""
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            return (f"a {kind}-compressed file: the Python readers take uncompressed pcap and pcapng only "
                    "(decompress it first; pcapml's commands read it as it is)")
    return None


class FormatError(ValueError):
    """A damaged or unsupported file; names the byte offset at fault."""

    def __init__(self, path, offset, what):
        super().__init__(f"{path}: byte {offset}: {what}")
        self.path, self.offset = path, offset


class Packet(namedtuple("Packet", "idx offset link_type ts_ns orig_len data comment interface")):
    """One packet as read_packets() yields it; ts_ns is None for a Simple Packet Block."""

    __slots__ = ()

    @property
    def sid(self):
        parsed = parse_comment(self.comment)
        return parsed and parsed[0]

    @property
    def label(self):
        parsed = parse_comment(self.comment)
        return parsed and parsed[1]


class Interface:
    """What an IDB (or a classic pcap header) says about its packets."""

    __slots__ = ("link_type", "snaplen", "name", "units", "offset_s", "offset_ns", "fast", "offset", "cap")

    def __init__(self, link_type, snaplen, units=10**6, offset_s=0, name=None, order="<", offset=0):
        self.link_type, self.snaplen, self.name = link_type, snaplen, name
        self.units, self.offset_s, self.offset_ns, self.offset = units, offset_s, offset_s * 10**9, offset
        # The fast loops take a timestamp as is: little-endian, nanoseconds, no offset.
        self.fast = order == "<" and units == 10**9 and offset_s == 0
        self.cap = min(snaplen or MAX_CAPLEN, MAX_CAPLEN)  # the longest captured length accepted

    def ts_ns(self, raw):
        # Floor, as Wireshark does, when the unit is finer than 1 ns or a power of 2.
        return raw * 10**9 // self.units + self.offset_ns


class Section:
    """State of one pcapng section: byte order and interfaces so far."""

    __slots__ = ("offset", "order", "interfaces", "idb_offsets")

    def __init__(self, offset, order):
        self.offset, self.order = offset, order
        self.interfaces, self.idb_offsets = [], set()


def _tsresol_units(value):
    exponent = value & 0x7F
    return 2**exponent if value & 0x80 else 10**exponent


class Reader:
    """A pcap/pcapng file read through a sliding buffer.

    buf[pos] is the next block; buf starts at file offset base. At least `keep`
    bytes (4 or more) before pos are kept when reading on, so a fast loop can see
    the end of the block before: its trailer, or its options as well.
    Reads stop at `stop` (a sample's last block) unless a block needs more.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.file = open(self.path, "rb", buffering=0)
        self.fd = self.file.fileno()
        self.size = self.stop = os.fstat(self.fd).st_size
        self.buf, self.base, self.pos, self.keep = bytes(4), -4, 4, 4
        self.sections, self.section, self.pcap = [], None, None
        head = os.pread(self.fd, 24, 0)
        try:
            if not head:
                raise self.error(0, "empty file, not a pcap or pcapng file")
            if len(head) < 4:
                raise self.error(0, f"truncated file header ({len(head)} bytes)")
            if head[:4] in _PCAP_MAGIC:
                self._pcap_header(head)
            elif compressed_problem(head):
                raise self.error(0, compressed_problem(head))
            elif head[:4] != b"\x0a\x0d\x0d\x0a":
                raise self.error(0, f"not a pcap or pcapng file (magic 0x{_u32(head)[0]:08x})")
        except FormatError:
            self.close()
            raise

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def offset(self):
        return self.base + self.pos

    def at_end(self):
        return self.base + self.pos >= self.stop

    def cut_short(self, offset, length=0):
        """The input ends inside the block or record at offset (as the C++ reader says it)."""
        have = self.size - offset
        return self.error(offset, f"cut short: the input ends inside the record at byte offset {offset} "
                                  f"({have}{f' of {length}' if length else ''} bytes)")

    def error(self, offset, what):
        return FormatError(self.path, offset, what)

    def seek(self, offset, stop, section):
        """Go to the block at offset (read up to stop) in a known section."""
        self.stop, self.section = stop, section
        rel = offset - self.base
        if 4 <= rel <= len(self.buf):
            self.pos = rel
        else:
            self.buf, self.base, self.pos = b"", offset - 4, 4
            self._read(4)

    def read_at(self, start, stop):
        """The file's bytes from start to stop, read now (the buffer stays as it was)."""
        data = os.pread(self.fd, stop - start, start)
        if len(data) < stop - start:
            raise self.error(start + len(data), "file shrank while being read")
        return data

    def check_trailer(self, expected):
        """The four bytes before pos must equal `expected`, the previous block's length."""
        trailer = _u32(self.buf, self.pos - 4)[0]
        if trailer != expected:
            start = self.base + self.pos - expected
            raise self.error(start, f"block length trailer mismatch ({expected} vs {trailer})")

    def _read(self, need):
        # Re-read from `keep` bytes before pos instead of joining old and new bytes: one copy, not two.
        keep = self.keep
        start = self.base + self.pos - keep
        want = min(max(need + keep, min(CHUNK, self.stop - start)), self.size - start)
        if start < 0:  # at the file's start the slack is zeros
            self.buf = bytes(-start) + self.read_at(0, start + want)
        else:
            self.buf = self.read_at(start, start + want)
        self.base, self.pos = start, keep

    def _needed(self):
        """(Length of the block at pos, or a header's worth if unknown yet; its byte order)."""
        buf, pos = self.buf, self.pos
        if self.pcap:
            if len(buf) - pos < 16:
                return 16, None
            return 16 + struct.unpack_from(self.pcap + "I", buf, pos + 8)[0], None
        if len(buf) - pos < 12:
            return 12, None
        order = self.section.order if self.section else "<"
        if buf[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
            order = "<" if buf[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        return struct.unpack_from(order + "I", buf, pos + 4)[0], order

    def _trailer(self, offset, length, order):
        return struct.unpack(order + "I", os.pread(self.fd, 4, offset + length - 4))[0]

    def more(self):
        """Read on if the block at pos is not whole in the buffer; False if nothing was read."""
        need, order = self._needed()
        have = len(self.buf) - self.pos
        if need > self.size - self.offset or need > MAX_BLOCK + 16:
            need = min(16, self.size - self.offset)  # damaged: its header is enough for block() to say why
        if need <= have:
            return False
        if order and need > CHUNK and self._trailer(self.offset, need, order) != need:
            return False  # a damaged length must not make us read megabytes: block() says why
        self._read(need)
        return True

    def block(self):
        """Parse the block at pos and step over it.

        Returns (interface id, Interface, ts_ns, orig_len, data, raw comment or None)
        for a packet, None for any other block.
        """
        while self.more():
            pass
        if self.pcap:
            return self._pcap_record()
        buf, pos, off = self.buf, self.pos, self.offset
        have = len(buf) - pos
        if buf[pos:pos + 4] == b"\x0a\x0d\x0d\x0a" and (have >= 8 or off == 0):
            return self._shb(buf, pos, have, off)  # the first one is read whole when the file is opened
        if have < 8:
            raise self.cut_short(off)
        order = self.section.order
        btype, blen = struct.unpack_from(order + "II", buf, pos)
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            raise self.error(off, f"block of type 0x{btype:08x} with bad length {blen}")
        if blen > self.size - off:
            raise self.cut_short(off, blen)
        self._check_trailer(buf, pos, have, off, blen, order)
        self.pos = pos + blen
        if btype == IDB:
            return self._idb(buf, pos, blen, off, order)
        if btype == EPB or btype == PB:
            return self._epb(buf, pos, blen, off, order, btype)
        if btype == SPB:
            return self._spb(buf, pos, blen, off, order)
        return None  # NRB, ISB, DSB, CB/DCB, unknown: nothing a sampler needs

    def _check_trailer(self, buf, pos, have, off, blen, order):
        if blen > have:  # more() would not read it
            trailer = self._trailer(off, blen, order)
        else:
            trailer = struct.unpack_from(order + "I", buf, pos + blen - 4)[0]
        if trailer != blen:
            raise self.error(off, f"block length trailer mismatch ({blen} vs {trailer})")

    def _options(self, buf, start, end, delta, order, block):
        """{code: first value} of the options in buf[start:end]; delta maps buffer to file offsets."""
        found = {}
        while start + 4 <= end:
            code, length = struct.unpack_from(order + "HH", buf, start)
            if code == OPT_END:
                break
            if start + 4 + length > end:
                raise self.error(delta + start, f"option {code} of {length} bytes runs past the end of its {block}")
            found.setdefault(code, buf[start + 4:start + 4 + length])
            start += 4 + (length + 3 & ~3)
        return found

    def _shb(self, buf, pos, have, off):
        if have < 12:
            raise self.cut_short(off)
        order = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}.get(buf[pos + 8:pos + 12])
        if order is None:
            raise self.error(off, f"section header with bad byte-order magic 0x{_u32(buf, pos + 8)[0]:08x}")
        blen = struct.unpack_from(order + "I", buf, pos + 4)[0]
        if blen < 28 or blen % 4 or blen > MAX_BLOCK:
            raise self.error(off, f"section header block with bad length {blen}")
        if blen > self.size - off:
            raise self.cut_short(off, blen)
        self._check_trailer(buf, pos, have, off, blen, order)
        major = struct.unpack_from(order + "H", buf, pos + 12)[0]
        if major != 1:
            raise self.error(off, f"unsupported pcapng major version {major}")
        self._options(buf, pos + 24, pos + blen - 4, off - pos, order, "section header block")
        self.pos = pos + blen
        self.section = Section(off, order)
        self.sections.append(self.section)
        return None

    def _idb(self, buf, pos, blen, off, order):
        if blen < 20:
            raise self.error(off, "interface description block too short")
        if off in self.section.idb_offsets:
            return None  # seen before: a sample read out of file order passes it again
        link_type, _, snaplen = struct.unpack_from(order + "HHI", buf, pos + 8)
        opts = self._options(buf, pos + 16, pos + blen - 4, off - pos, order, "interface description block")
        units = _tsresol_units(opts[IF_TSRESOL][0]) if opts.get(IF_TSRESOL) else 10**6
        if units > 2**63:  # as the C++ reader, which counts in 64 bits
            resol = opts[IF_TSRESOL][0]
            raise self.error(off, f"unsupported if_tsresol {'2' if resol & 0x80 else '10'}^-{resol & 0x7F}")
        tsoffset = opts.get(IF_TSOFFSET, b"")
        offset_s = struct.unpack_from(order + "q", tsoffset)[0] if len(tsoffset) >= 8 else 0
        name = decode_comment(opts[IF_NAME]) if IF_NAME in opts else None
        self.section.interfaces.append(
            Interface(link_type, snaplen, units, offset_s, name, order, off))
        self.section.idb_offsets.add(off)
        return None

    def _interface(self, ifid, off):
        interfaces = self.section.interfaces
        if ifid >= len(interfaces):
            raise self.error(off, f"packet names interface {ifid} but its section has {len(interfaces)}")
        return interfaces[ifid]

    def _epb(self, buf, pos, blen, off, order, btype):
        if blen < 32:
            raise self.error(off, "packet block too short")
        if btype == EPB:
            ifid, high, low, caplen, orig_len = struct.unpack_from(order + "5I", buf, pos + 8)
        else:  # obsolete Packet Block: 16-bit interface id and a drops count
            ifid, _, high, low, caplen, orig_len = struct.unpack_from(order + "HH4I", buf, pos + 8)
        iface = self._interface(ifid, off)
        opt_start = pos + 28 + (caplen + 3 & ~3)
        if opt_start > pos + blen - 4:
            raise self.error(off, f"packet data length {caplen} runs past its block of {blen} bytes")
        self._check_caplen(caplen, iface, off)
        raw = high << 32 | low
        ts_ns = iface.ts_ns(raw)
        if not 0 <= ts_ns <= MAX_TS_NS:
            raise self.error(off, f"packet time of {raw} units ({iface.units} a second) + if_tsoffset "
                             f"{iface.offset_s} s is outside {TIME_RANGE}")
        comment = self._options(buf, opt_start, pos + blen - 4, off - pos, order, "packet block").get(OPT_COMMENT)
        return ifid, iface, ts_ns, orig_len, buf[pos + 28:pos + 28 + caplen], comment

    def _spb(self, buf, pos, blen, off, order):
        if blen < 16:
            raise self.error(off, "simple packet block too short")
        iface = self._interface(0, off)
        orig_len = struct.unpack_from(order + "I", buf, pos + 8)[0]
        caplen = min(orig_len, blen - 16, iface.snaplen or orig_len)
        self._check_caplen(caplen, iface, off)
        return 0, iface, None, orig_len, buf[pos + 12:pos + 12 + caplen], None

    def _check_caplen(self, caplen, iface, off):
        if caplen > iface.cap:
            limit = (f"the maximum of {MAX_CAPLEN}" if caplen > MAX_CAPLEN
                     else f"its snap length of {iface.snaplen}")
            raise self.error(off, f"packet with captured length {caplen} above {limit}")

    def _pcap_header(self, head):
        order, units = _PCAP_MAGIC[head[:4]]
        if len(head) < 24:
            raise self.error(0, "truncated pcap file header")
        snaplen, network = struct.unpack_from(order + "II", head, 16)
        self.pcap = order
        self.section = Section(0, order)
        iface = Interface(network & 0xFFFF, snaplen, units, order=order)
        iface.fast = False  # the fast loops know pcapng blocks only
        self.section.interfaces.append(iface)
        self.sections.append(self.section)
        self.buf, self.base, self.pos = head[20:24], 20, 4

    def _pcap_record(self):
        buf, pos, off = self.buf, self.pos, self.offset
        if len(buf) - pos < 16:
            raise self.cut_short(off)
        sec, frac, caplen, orig_len = struct.unpack_from(self.pcap + "4I", buf, pos)
        iface = self.section.interfaces[0]
        self._check_caplen(caplen, iface, off)
        if caplen > self.size - off - 16:
            raise self.cut_short(off, 16 + caplen)
        ts_ns = sec * 10**9 + frac * (10**9 // iface.units)
        if ts_ns > MAX_TS_NS:
            raise self.error(off, f"packet time {sec} s + {frac} {'ns' if iface.units == 10**9 else 'us'} "
                             f"is outside {TIME_RANGE}")
        self.pos = pos + 16 + caplen
        return 0, iface, ts_ns, orig_len, buf[pos + 16:pos + 16 + caplen], None


def read_packets(path):
    """Every packet of a pcap or pcapng file in file order, labeled or not, as Packet tuples."""
    with Reader(path) as rd:
        idx = 0
        while not rd.at_end():
            offset = rd.offset
            found = rd.block()
            if found is not None:
                ifid, iface, ts_ns, orig_len, data, comment = found
                text = None if comment is None else decode_comment(comment)
                yield Packet(idx, offset, iface.link_type, ts_ns, orig_len, data, text, ifid)
                idx += 1
