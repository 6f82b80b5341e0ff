"""Issue 18, disk budget and crash recovery: a .partial file an earlier run
left is recovered before anything is written, so the start-up check of
[output] max_bytes counts it with the completed files, and the bytes-kept
metric includes it from the start (not only after the next file completes).
The output directory is on a small tmpfs the test mounts, so its free space
is known exactly; the daemon captures on lo with a filter that takes
nothing (no traffic is needed). Run as root, under /tmp/pcapml-e2e.lock."""
import os
import struct
import time

import pytest

from conftest import run, tshark
from daemon_util import Daemon, completed_files, free_port, metric, scrape, tmpfs, write_config

RULES = '[[rule]]\nid = "all"\nlabel = "all"\n'


def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)


def pcapng(packets, size=1000):
    """A little-endian pcapng file: section header, one Ethernet interface, packets of `size` bytes."""
    blocks = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)), block(1, struct.pack("<HHI", 1, 0, 65535))]
    for i in range(packets):
        ts = (1767225600 + i) * 1000000  # microseconds (the default if_tsresol)
        frame = bytes([i % 256]) * size
        blocks.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, size, size) + frame))
    return b"".join(blocks)


@pytest.fixture
def small_fs(tmp_path):
    with tmpfs(tmp_path / "fs", "16m") as mnt:
        yield mnt


def test_partial_files_count_in_the_budget_check_and_in_bytes_kept_from_the_start(tmp_path, small_fs):
    out = small_fs / "out"
    out.mkdir()
    done = out / "t-20260101T000000Z-000001.pcapng"
    done.write_bytes(pcapng(1000))  # about 1 MiB
    whole = pcapng(4000)  # about 4 MiB, killed in the middle of a block
    partial = out / "t-20260101T000100Z-000002.pcapng.partial"
    partial.write_bytes(whole + whole[-1000:-500])
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    st = os.statvfs(out)
    free = st.f_bavail * st.f_frsize
    # More than the free space and the completed file, within them and the file to recover.
    budget = free + done.stat().st_size + len(whole) // 2
    port = free_port()
    cfg = write_config(tmp_path / "d.toml", [{"interface": "lo", "filter": "udp port 9 and host 198.18.99.99"}],
                       [rules], out, port=port, output_extra=f"max_bytes = {budget}\nfsync = false")
    assert run("daemon", "--check-config", cfg).returncode == 0
    # What the .partial file brings is counted, and no more.
    too_much = free + done.stat().st_size + partial.stat().st_size + (1 << 20)
    over = write_config(tmp_path / "over.toml", [{"interface": "lo"}], [rules], out,
                        output_extra=f"max_bytes = {too_much}")
    p = run("daemon", "--check-config", over, check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert "of them .partial files an earlier run left, completed at start" in p.stderr, p.stderr

    d = Daemon(cfg)
    try:
        d.wait_for("ready")
        want = done.stat().st_size + len(whole)
        deadline = time.time() + 3
        while (kept := metric(scrape(port), "pcapml_output_bytes_kept")) != want and time.time() < deadline:
            time.sleep(0.05)
        text = scrape(port)
    finally:
        assert d.stop() == 0, d.lines
    assert not any("max_bytes" in l for l in d.lines), d.lines
    assert kept == want, (kept, want)
    assert metric(text, "pcapml_files_recovered_total") == 1
    assert completed_files(out) == [str(done), str(partial)[:-len(".partial")]]
    assert len(tshark(str(partial)[:-len(".partial")], "frame.number")) == 4000

