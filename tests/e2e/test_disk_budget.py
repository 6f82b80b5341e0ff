"""Issue 18, disk budget: [output] max_bytes removes the oldest completed files
so the newest stay under it, never the file being written; the daemon
refuses a budget its file system cannot hold; the metrics say what is kept
and what is free. Runs the daemon on file sources (no network): run under
/tmp/pcapml-e2e.lock."""
import os
import subprocess

from conftest import BIN, run, tshark
from daemon_util import Daemon, completed_files, write_config

RULES = '[[rule]]\nid = "all"\nlabel = "all"\n'


def capture(tmp_path):
    path = tmp_path / "in.pcap"
    subprocess.run([os.path.join(os.path.dirname(BIN), "bench", "make_capture"), str(path), "2MiB", "100"],
                   check=True, capture_output=True)
    return path


def test_a_small_budget_keeps_the_newest_files_and_every_packet_of_them(tmp_path):
    cap = capture(tmp_path)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    out = tmp_path / "out"
    # About 2.2 MB of pcapng in files of about 100 KiB; a budget of 500 KiB keeps the newest
    # three or four (with room for the one being written).
    cfg = write_config(tmp_path / "d.toml", [{"file": str(cap), "pace": "fast"}], [rules], out,
                       output_extra='rotate_bytes = "100KiB"\nmax_bytes = "500KiB"')
    d = Daemon(cfg)
    assert d.proc.wait(60) == 0, d.lines
    files = completed_files(out)
    sizes = [os.path.getsize(f) for f in files]
    assert sum(sizes) <= 500 * 1024, sizes
    assert 3 <= len(files) <= 4, files
    assert not [f for f in os.listdir(out) if f.endswith(".partial")]
    # The files kept are the last ones written, whole: their packets are the capture's last ones, in order.
    seqs = [int(f.rsplit("-", 1)[1].split(".")[0]) for f in files]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and seqs[0] > 15, seqs
    want = [r[0] for r in tshark(cap, "frame.time_epoch")]
    got = [r[0] for f in files for r in tshark(f, "frame.time_epoch")]
    assert len(got) > 300  # about 130 packets a file
    assert got == want[-len(got):]  # ends with the capture's last packet: the file being written was kept


def test_a_budget_the_file_system_cannot_hold_is_refused(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    (tmp_path / "empty.pcap").write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    cfg = write_config(tmp_path / "d.toml", [{"file": str(tmp_path / "empty.pcap")}], [rules], tmp_path / "out",
                       output_extra='max_bytes = "1000TiB"')
    p = run("daemon", "--config", cfg, check=False)
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and "max_bytes 1000.0 TiB is more than" in p.stderr and "free plus" in p.stderr, \
        p.stderr
    line = cfg.read_text().splitlines().index('max_bytes = "1000TiB"') + 1
    assert p.stderr.startswith(f"pcapml: {cfg}:{line}: [output] max_bytes 1000.0 TiB is more than")
    assert run("daemon", "--check-config", cfg, check=False).stderr == p.stderr  # found without running too
    assert not os.listdir(tmp_path / "out")  # nothing was written


def test_max_bytes_is_checked_with_the_config(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    for extra, why in (('max_bytes = "lots"', "max_bytes"),
                       ('rotate_bytes = "1MiB"\nmax_bytes = "1MiB"', "max_bytes must leave room")):
        cfg = write_config(tmp_path / "d.toml", [{"interface": "lo"}], [rules], tmp_path / "out", output_extra=extra)
        p = run("daemon", "--check-config", cfg, check=False)
        assert p.returncode == 1 and why in p.stderr, p.stderr
