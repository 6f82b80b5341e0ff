"""Issue 2 end to end: summary over the conformance corpus, damaged files,
and a written file read back by tshark and tcpdump."""
import glob
import os
import re

from conftest import TESTDATA, run, tcpdump, tshark

CORPUS = sorted(glob.glob(os.path.join(TESTDATA, "pcapng-conformance", "output_*", "*", "*.pcapng")))


def expected_packets(pcapng):
    text = open(pcapng[:-len(".pcapng")] + ".txt").read()
    return sum(int(n) for n in re.findall(r"^\s*(?:EPB|SPB|PB):\s*(\d+)", text, re.M))


def test_csv_total_matches_every_conformance_file():
    assert len(CORPUS) >= 48
    for f in CORPUS:
        out = run("summary", "-M", f, "--csv").stdout.splitlines()
        assert out[0] == "label,samples,packets,bytes,first,last"
        total = out[-1].split(",")
        assert total[0] == "TOTAL"
        assert int(total[2]) == expected_packets(f), f


def test_damaged_files_fail_with_one_line_naming_the_offset(tmp_path):
    good = os.path.join(TESTDATA, "pcapng-conformance", "output_le", "basic", "test001.pcapng")
    data = open(good, "rb").read()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(data[:-10])
    p = run("summary", "-M", cut, "--strict", check=False)  # cut short: an error with --strict (test_partial.py)
    assert p.returncode == 1
    assert len(p.stderr.strip().splitlines()) == 1
    assert "offset" in p.stderr and str(cut) in p.stderr
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"this is not a capture at all" * 10)
    p = run("summary", "-M", garbage, check=False)
    assert p.returncode == 1 and "offset 0" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_labeled_output_reads_back_identically_in_tshark_and_tcpdump(tmp_path, sample):
    out = tmp_path / "ds.pcapng"
    run("-D", os.path.join(sample, "dataset"), "-L", os.path.join(sample, "labels.txt"), "-W", out)
    # tcpdump of the output equals tcpdump of the inputs, packet for packet (times, lengths, bytes).
    inputs = {}
    for line in open(os.path.join(sample, "labels.txt")).read().splitlines()[1:]:
        name, label = line.split(",", 1)
        inputs[name] = label
    want = "".join(tcpdump(os.path.join(sample, "dataset", n), "-xx") for n in sorted(inputs))
    assert tcpdump(out, "-xx") == want
    # tshark: nanosecond times, lengths and comments as written.
    rows = tshark(out, "frame.time_epoch", "frame.len", "frame.cap_len", "frame.comment")
    src = []
    for n in sorted(inputs):
        src += [r + [n] for r in tshark(os.path.join(sample, "dataset", n), "frame.time_epoch", "frame.len", "frame.cap_len")]
    assert len(rows) == len(src) == 52
    for got, exp in zip(rows, src):
        assert got[:3] == exp[:3]
        sid, label = got[3].split(",", 1)
        assert label == inputs[exp[3]]


def test_summary_counts_samples_per_label(tmp_path, sample):
    out = tmp_path / "cap.pcapng"
    run("-P", os.path.join(sample, "trace.pcap"), "-L", os.path.join(sample, "metadata.csv"), "-W", out)
    rows = [r.split(",") for r in run("summary", "-M", out, "--csv").stdout.splitlines()]
    table = {r[0]: r[1:] for r in rows[1:]}
    # Cross-check with tshark: packets per label from the comments.
    comments = [r[0] for r in tshark(out, "frame.comment")]
    for label, (samples, packets, _bytes, _first, _last) in table.items():
        if label == "TOTAL":
            assert int(packets) == len(comments)
            continue
        mine = [c for c in comments if c.split(",")[1] == label]
        assert int(packets) == len(mine)
        assert int(samples) == len({c.split(",")[0] for c in mine})


def test_cli_help_version_and_did_you_mean():
    p = run("--help")
    assert "summary" in p.stdout and "label" in p.stdout
    assert run("--version").stdout.startswith("pcapml ")
    p = run("sumary", check=False)
    assert p.returncode == 2 and "did you mean 'summary'" in p.stderr
    p = run("help", "summary")
    assert "--csv" in p.stdout
    p = run("summary", "--no-such-flag", check=False)
    assert p.returncode == 2
