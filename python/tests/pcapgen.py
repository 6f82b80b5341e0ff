"""A tiny pcap/pcapng writer for tests: any block, either byte order, damaged on purpose.

PcapngBuilder also records what each packet should read back as (Expected), so
tests compare the reader with what was written, not with itself.
"""
import struct
from collections import namedtuple

Expected = namedtuple("Expected", "offset link_type ts_ns data comment")


def option(code, value, order="<"):
    if isinstance(value, str):
        value = value.encode()
    return struct.pack(order + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def options(pairs, order="<"):
    """Options followed by opt_endofopt (nothing at all if there are none)."""
    if not pairs:
        return b""
    return b"".join(option(c, v, order) for c, v in pairs) + bytes(4)


def block(btype, body, order="<", length=None, trailer=None):
    size = 12 + len(body)
    head = struct.pack(order + "II", btype, size if length is None else length)
    return head + body + struct.pack(order + "I", size if trailer is None else trailer)


def shb(order="<", opts=(), major=1):
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1) + options(opts, order)
    return block(0x0A0D0D0A, body, order)


def idb(link_type=1, snaplen=0, opts=(), order="<"):
    return block(1, struct.pack(order + "HHI", link_type, 0, snaplen) + options(opts, order), order)


def epb(data, raw_ts=0, ifid=0, comment=None, order="<", opts=(), orig_len=None, pb=False):
    opts = ([(1, comment)] if comment is not None else []) + list(opts)
    orig = len(data) if orig_len is None else orig_len
    high, low = raw_ts >> 32, raw_ts & 0xFFFFFFFF
    if pb:  # obsolete Packet Block: 16-bit interface id, drops count
        head = struct.pack(order + "HH4I", ifid, 0, high, low, len(data), orig)
    else:
        head = struct.pack(order + "5I", ifid, high, low, len(data), orig)
    body = head + data + bytes(-len(data) % 4) + options(opts, order)
    return block(2 if pb else 6, body, order)


def spb(data, orig_len=None, order="<"):
    orig = len(data) if orig_len is None else orig_len
    return block(3, struct.pack(order + "I", orig) + data + bytes(-len(data) % 4), order)


def other(btype=0x40000BAD, body=b"\x01\x02\x03\x04", order="<"):
    """A block readers must skip: NRB is 4, ISB 5, DSB 10, CB 0x0BAD, DCB 0x40000BAD."""
    return block(btype, body, order)


def units_of(tsresol):
    return 2 ** (tsresol & 0x7F) if tsresol & 0x80 else 10**tsresol


class PcapngBuilder:
    """Builds a pcapng file block by block and remembers what each packet should read as."""

    def __init__(self):
        self.parts, self.size, self.expected = [], 0, []
        self.order, self.interfaces = "<", []

    def _add(self, data):
        self.parts.append(data)
        self.size += len(data)

    def section(self, order="<", opts=((4, "pcapgen"),)):
        self.order, self.interfaces = order, []
        self._add(shb(order, opts))

    def interface(self, link_type=1, tsresol=9, tsoffset=0, snaplen=0, name=None):
        opts = [(2, name)] if name else []
        if tsresol is not None:
            opts.append((9, bytes([tsresol])))
        if tsoffset:
            opts.append((14, struct.pack(self.order + "q", tsoffset)))
        self.interfaces.append((link_type, units_of(tsresol if tsresol is not None else 6), tsoffset, snaplen))
        self._add(idb(link_type, snaplen, opts, self.order))
        return len(self.interfaces) - 1

    def packet(self, data, ts_ns, comment=None, ifid=0, kind="epb", opts=()):
        """kind: 'epb', 'pb' or 'spb' (an SPB has no time and no comment)."""
        link_type, units, tsoffset, snaplen = self.interfaces[ifid]
        raw = (ts_ns - tsoffset * 10**9) * units // 10**9
        ts = raw * 10**9 // units + tsoffset * 10**9
        if kind == "spb":
            ifid, ts, comment = 0, None, None
            link_type, _, _, snaplen = self.interfaces[0]
            data_read = data[:snaplen] if snaplen else data
            blk = spb(data_read, len(data), self.order)
        else:
            data_read = data
            blk = epb(data, raw, ifid, comment, self.order, opts, pb=kind == "pb")
        self.expected.append(Expected(self.size, link_type, ts, data_read, comment))
        self._add(blk)

    def other(self, btype=0x40000BAD, body=b"\x01\x02\x03\x04"):
        self._add(other(btype, body, self.order))

    def bytes(self):
        return b"".join(self.parts)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.bytes())
        return path


def pcap(packets, order="<", nano=False, link_type=1, snaplen=65535):
    """A classic pcap file; packets are (ts_ns, data) pairs."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link_type)]
    for ts_ns, data in packets:
        sec, frac = divmod(ts_ns, 10**9)
        out.append(struct.pack(order + "4I", sec, frac if nano else frac // 1000, len(data), len(data)) + data)
    return b"".join(out)
