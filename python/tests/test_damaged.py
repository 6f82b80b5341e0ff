import struct
import tracemalloc

import pytest

import pcapml
from pcapgen import PcapngBuilder, block, epb, idb, options, pcap, shb

T0 = 1_700_000_000_000_000_000


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
    assert_error(tmp_path, data[:offs[1] + 30], offs[1], "past the end of the file")


def test_truncated_in_a_header(tmp_path):
    data, offs = good()
    assert_error(tmp_path, data[:offs[2] + 6], offs[2], "truncated block")


@pytest.mark.parametrize("length", [8, 13, 34])
def test_bad_block_length(tmp_path, length):
    data, offs = good()
    put32(data, offs[1] + 4, length)
    assert_error(tmp_path, data, offs[1], f"bad block length {length}")


def test_block_length_not_a_multiple_of_4_with_a_matching_trailer(tmp_path):
    # One stray byte between the data and the options; length and trailer agree on it.
    first = epb(bytes(4), T0, comment="1,a")
    body = struct.pack("<5I", 0, T0 >> 32, T0 & 0xFFFFFFFF, 4, 4) + bytes(5) + options([(1, "1,a")])
    data = shb() + idb(opts=[(9, b"\x09")]) + first + block(6, body) + first
    assert (len(body) + 12) % 4 == 1
    assert_error(tmp_path, data, len(shb() + idb(opts=[(9, b"\x09")]) + first), "bad block length 49")


@pytest.mark.parametrize("which", [0, 1, 2])
def test_trailer_mismatch(tmp_path, which):
    data, offs = good()
    end = offs[which + 1] if which < 2 else len(data)
    put32(data, end - 4, 1234)
    assert_error(tmp_path, data, offs[which], "trailer")


def test_length_beyond_file_allocates_nothing_big(tmp_path):
    data, offs = good()
    put32(data, offs[1] + 4, 0xFFFFFFF0)
    tracemalloc.start()
    try:
        assert_error(tmp_path, data, offs[1], "past the end of the file")
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
    finally:
        tracemalloc.stop()


def test_captured_length_beyond_block(tmp_path):
    data, offs = good()
    put32(data, offs[1] + 20, 5000)
    assert_error(tmp_path, data, offs[1], "captured length 5000")


def test_option_beyond_block(tmp_path):
    data, offs = good()
    opt = offs[0] + 28 + 40
    data[opt + 2:opt + 4] = struct.pack("<H", 200)
    assert_error(tmp_path, data, opt, "option 1 runs past")


def test_option_in_place_of_the_end_of_options(tmp_path):
    data, offs = good()
    end = offs[1] - 8  # the first packet's opt_endofopt, before its trailer
    data[end:end + 4] = struct.pack("<HH", 5, 4)
    assert_error(tmp_path, data, end, "option 5 runs past")


def test_unknown_interface(tmp_path):
    data, offs = good()
    put32(data, offs[2] + 8, 3)
    assert_error(tmp_path, data, offs[2], "interface 3")


def test_bad_section_header(tmp_path):
    data = bytearray(shb() + idb() + epb(b"x", comment="1,a"))
    data[8:12] = b"abcd"
    assert_error(tmp_path, data, 8, "byte-order magic")
    assert_error(tmp_path, shb(major=2) + idb(), 0, "version 2")


@pytest.mark.parametrize("data", [b"", b"\x00" * 64, b"GIF89a..."])
def test_not_a_capture(tmp_path, data):
    assert_error(tmp_path, data, 0, "not a pcap or pcapng file")


def test_pcap_damage(tmp_path):
    data = bytearray(pcap([(T0, b"x" * 10), (T0, b"y" * 10)]))
    assert_error(tmp_path, data[:10], 10, "truncated pcap file header")
    assert_error(tmp_path, data[:24 + 26 + 8], 50, "truncated record header")
    put32(data, 50 + 8, 10**9)
    assert_error(tmp_path, data, 50, "record length 1000000000")


def test_unlabeled_block_after_end_is_still_checked(tmp_path):
    data = shb() + idb() + epb(b"x", comment="1,a") + block(0x0BAD, b"1234", length=20)
    assert_error(tmp_path, data, len(shb() + idb() + epb(b"x", comment="1,a")), "length 20")


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
            with pytest.raises(pcapml.FormatError, match="trailer says"):
                read()
            assert tracemalloc.get_traced_memory()[1] < 1 << 20
        finally:
            tracemalloc.stop()


def test_big_block_is_read_whole(tmp_path):
    b = PcapngBuilder()
    b.section()
    b.interface()
    b.packet(bytes(range(256)) * 4096, T0, "1,big")  # 1 MiB, more than one read
    b.packet(b"x", T0 + 1, "1,big")
    path = b.write(tmp_path / "big.pcapng")
    for grouped in (False, True):
        (s,) = pcapml.sampler(path, grouped=grouped)
        assert [p[4] for p in s] == [e.data for e in b.expected]
