import struct
import tracemalloc

import pytest

import pcapml
from pcapgen import PcapngBuilder, block, epb, idb, options, pcap, shb

T0 = 1_700_000_000_000_000_000
# Every test here runs with both readers: the same FormatError, offset and message.
pytestmark = pytest.mark.usefixtures("backend")


def good():
    """A valid file of three labeled EPBs; returns its bytes and each EPB's offset."""
    b = PcapngBuilder()
    b.section()
    b.interface()
    for i in range(3):
        b.packet(bytes(40 + i), T0 + i, "1,a")
    return bytearray(b.bytes()), [e.offset for e in b.expected]


def all_readers(path):
    yield lambda: list(pcapml.read_packets(path))
    yield lambda: list(pcapml.sampler(path))
    yield lambda: list(pcapml.sampler(path, grouped=True))


def assert_error(tmp_path, data, offset, match):
    path = tmp_path / "bad.pcapng"
    path.write_bytes(bytes(data))
    for read in all_readers(path):
        with pytest.raises(pcapml.FormatError, match=match) as err:
            read()
        assert err.value.offset == offset, str(err.value)
        assert f"byte {offset}:" in str(err.value)


def put32(data, offset, value):
    data[offset:offset + 4] = struct.pack("<I", value)


def test_truncated_in_a_block(tmp_path):
    data, offs = good()
    assert_error(tmp_path, data[:offs[1] + 30], offs[1], r"cut short: .* \(30 of \d+ bytes\)")


def test_truncated_in_a_header(tmp_path):
    data, offs = good()
    assert_error(tmp_path, data[:offs[2] + 6], offs[2], r"cut short: .* \(6 bytes\)")


@pytest.mark.parametrize("length", [8, 13, 34])
def test_bad_block_length(tmp_path, length):
    data, offs = good()
    put32(data, offs[1] + 4, length)
    assert_error(tmp_path, data, offs[1], f"block of type 0x00000006 with bad length {length}$")


def test_block_length_not_a_multiple_of_4_with_a_matching_trailer(tmp_path):
    # One stray byte between the data and the options; length and trailer agree on it.
    first = epb(bytes(4), T0, comment="1,a")
    body = struct.pack("<5I", 0, T0 >> 32, T0 & 0xFFFFFFFF, 4, 4) + bytes(5) + options([(1, "1,a")])
    data = shb() + idb(opts=[(9, b"\x09")]) + first + block(6, body) + first
    assert (len(body) + 12) % 4 == 1
    assert_error(tmp_path, data, len(shb() + idb(opts=[(9, b"\x09")]) + first), "with bad length 49")


@pytest.mark.parametrize("which", [0, 1, 2])
def test_trailer_mismatch(tmp_path, which):
    data, offs = good()
    end = offs[which + 1] if which < 2 else len(data)
    put32(data, end - 4, 1234)
    assert_error(tmp_path, data, offs[which], r"block length trailer mismatch \(\d+ vs 1234\)")


def test_length_beyond_file_allocates_nothing_big(tmp_path):
    data, offs = good()
    put32(data, offs[1] + 4, 0xFFFFFFF0)
    tracemalloc.start()
    try:
        assert_error(tmp_path, data, offs[1], "bad length 4294967280")
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
    finally:
        tracemalloc.stop()


def test_captured_length_beyond_block(tmp_path):
    data, offs = good()
    put32(data, offs[1] + 20, 5000)
    assert_error(tmp_path, data, offs[1], "packet data length 5000 runs past its block of 88 bytes")


def test_option_beyond_block(tmp_path):
    data, offs = good()
    opt = offs[0] + 28 + 40
    data[opt + 2:opt + 4] = struct.pack("<H", 200)
    assert_error(tmp_path, data, opt, "option 1 of 200 bytes runs past the end of its packet block$")


def test_option_in_place_of_the_end_of_options(tmp_path):
    data, offs = good()
    end = offs[1] - 8  # the first packet's opt_endofopt, before its trailer
    data[end:end + 4] = struct.pack("<HH", 5, 4)
    assert_error(tmp_path, data, end, "option 5 of 4 bytes runs past the end of its packet block$")


def test_option_beyond_interface_block(tmp_path):
    data = bytearray(shb() + idb(opts=[(2, "eth0")]) + epb(b"x", comment="1,a"))
    opt = len(shb()) + 16
    data[opt + 2:opt + 4] = struct.pack("<H", 9)
    assert_error(tmp_path, data, opt, "option 2 of 9 bytes runs past the end of its interface description block$")


def test_option_beyond_section_header(tmp_path):
    data = bytearray(shb(opts=[(4, "app")]) + idb() + epb(b"x", comment="1,a"))
    data[24 + 2:24 + 4] = struct.pack("<H", 9)
    assert_error(tmp_path, data, 24, "option 4 of 9 bytes runs past the end of its section header block$")


@pytest.mark.parametrize("snaplen, caplen, what", [(0, 262145, "the maximum of 262144"),
                                                   (64, 65, "its snap length of 64")])
def test_captured_length_over_snap_length_or_maximum(tmp_path, snaplen, caplen, what):
    data = shb() + idb(snaplen=snaplen) + epb(b"y", comment="1,a") + epb(bytes(caplen), comment="1,a")
    assert_error(tmp_path, data, len(shb() + idb(snaplen=snaplen) + epb(b"y", comment="1,a")),
                 f"packet with captured length {caplen} above {what}$")


@pytest.mark.parametrize("tsresol, tsoffset, raw", [(9, 0, 2**32 * 10**9), (6, 0, 2**64 - 1), (9, -1, 5),
                                                    (0, 0, 2**32)])
def test_times_outside_what_output_can_hold(tmp_path, tsresol, tsoffset, raw):
    opts = [(9, bytes([tsresol]))] + ([(14, struct.pack("<q", tsoffset))] if tsoffset else [])
    units = 10**tsresol
    head = shb() + idb(opts=opts) + epb(b"y", raw_ts=2 * units, comment="1,a")  # 1970-01-01T00:00:01 or :02
    assert_error(tmp_path, head + epb(b"x", raw_ts=raw, comment="1,a"), len(head),
                 rf"packet time of {raw} units \({units} a second\) \+ if_tsoffset {tsoffset} s is outside "
                 r"1970-01-01\.\.2106-02-07 \(what pcap and pcapng output can hold\)$")


@pytest.mark.parametrize("tsresol, what", [(20, r"10\^-20"), (0x80 | 64, r"2\^-64")])
def test_time_resolution_finer_than_64_bits_count(tmp_path, tsresol, what):
    data = shb() + idb(opts=[(9, bytes([tsresol]))]) + epb(b"x", comment="1,a")
    assert_error(tmp_path, data, len(shb()), f"unsupported if_tsresol {what}$")


def test_the_first_time_resolution_counts(tmp_path):
    path = tmp_path / "f.pcapng"
    path.write_bytes(shb() + idb(opts=[(9, b"\x03"), (9, b"\x09")]) + epb(b"x", raw_ts=5, comment="1,a"))
    (s,) = pcapml.sampler(path)
    assert s.ts_ns(0) == 5_000_000 and [p.ts_ns for p in pcapml.read_packets(path)] == [5_000_000]


def test_block_over_64_mib(tmp_path):
    data, offs = good()
    put32(data, offs[1] + 4, (64 << 20) + 4)
    assert_error(tmp_path, data, offs[1], f"bad length {(64 << 20) + 4}$")


def test_unknown_interface(tmp_path):
    data, offs = good()
    put32(data, offs[2] + 8, 3)
    assert_error(tmp_path, data, offs[2], "interface 3")


def test_bad_section_header(tmp_path):
    data = bytearray(shb() + idb() + epb(b"x", comment="1,a"))
    data[8:12] = b"abcd"
    assert_error(tmp_path, data, 0, "section header with bad byte-order magic 0x64636261")
    assert_error(tmp_path, shb(major=2) + idb(), 0, "unsupported pcapng major version 2")


@pytest.mark.parametrize("data, what", [(b"", "empty file, not a pcap or pcapng file"),
                                        (b"\x0a\x0d", r"truncated file header \(2 bytes\)"),
                                        (b"\x00" * 64, r"not a pcap or pcapng file \(magic 0x00000000\)"),
                                        (b"GIF89a...", r"not a pcap or pcapng file \(magic 0x38464947\)"),
                                        (b"\x0a\x0d\x0d\x0a\x1c\x00", r"cut short: .* \(6 bytes\)")])
def test_not_a_capture(tmp_path, data, what):
    assert_error(tmp_path, data, 0, what)


def test_pcap_damage(tmp_path):
    data = bytearray(pcap([(T0, b"x" * 10), (T0, b"y" * 10)]))
    assert_error(tmp_path, data[:10], 0, "truncated pcap file header")
    assert_error(tmp_path, data[:24 + 26 + 8], 50, r"cut short: .* byte offset 50 \(8 bytes\)")
    put32(data, 50 + 8, 10**9)
    assert_error(tmp_path, data, 50, "packet with captured length 1000000000 above the maximum of 262144")
    put32(data, 50 + 8, 65536)
    assert_error(tmp_path, data, 50, "packet with captured length 65536 above its snap length of 65535")
    put32(data, 50 + 8, 100)
    assert_error(tmp_path, data, 50, r"cut short: .* byte offset 50 \(\d+ of 116 bytes\)")
    data = bytearray(pcap([(T0, b"x" * 10)]))
    put32(data, 24, 2**32 - 1)
    put32(data, 28, 2**32 - 1)  # microseconds past a second: after 2106-02-07
    assert_error(tmp_path, data, 24, r"packet time 4294967295 s \+ 4294967295 us is outside 1970-01-01")


def test_unlabeled_block_after_end_is_still_checked(tmp_path):
    data = shb() + idb() + epb(b"x", comment="1,a") + block(0x0BAD, b"1234", length=20)
    assert_error(tmp_path, data, len(shb() + idb() + epb(b"x", comment="1,a")),
                 r"cut short: .* \(\d+ of 20 bytes\)")


def test_big_length_with_wrong_trailer_is_not_read(tmp_path):
    data, offs = good()
    data += bytes(4 << 20)  # room for the claimed length inside the file
    put32(data, offs[1] + 4, 3 << 20)
    path = tmp_path / "bad.pcapng"
    path.write_bytes(data)
    del data
    for read in all_readers(path):
        tracemalloc.start()
        try:
            with pytest.raises(pcapml.FormatError, match="trailer mismatch"):
                read()
            assert tracemalloc.get_traced_memory()[1] < 1 << 20
        finally:
            tracemalloc.stop()


def test_big_block_is_read_whole(tmp_path):
    b = PcapngBuilder()
    b.section()
    b.interface()
    b.packet(bytes(range(256)) * 1024, T0, "1,big")  # 256 KiB, the longest accepted: more than one read
    b.packet(b"x", T0 + 1, "1,big")
    path = b.write(tmp_path / "big.pcapng")
    for grouped in (False, True):
        (s,) = pcapml.sampler(path, grouped=grouped)
        assert [p[4] for p in s] == [e.data for e in b.expected]


@pytest.mark.parametrize("kind, compress", [("gzip", ["gzip", "-c"]), ("zstd", ["zstd", "-q", "-c"])])
def test_compressed_files_are_refused_by_name(tmp_path, kind, compress):
    """pcapml's commands read gzip and zstd captures; the Python readers say they do not (both alike,
    batches too), rather than failing on a magic number or a later read by offset."""
    import subprocess

    plain = tmp_path / "good.pcapng"
    plain.write_bytes(bytes(good()[0]))
    packed = subprocess.run([*compress, str(plain)], check=True, capture_output=True).stdout
    what = f"a {kind}-compressed file: the Python readers take uncompressed pcap and pcapng only"
    assert_error(tmp_path, packed, 0, what)
    with pytest.raises(pcapml.FormatError, match=what):
        list(pcapml.batches(tmp_path / "bad.pcapng"))
