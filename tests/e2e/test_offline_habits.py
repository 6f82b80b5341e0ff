"""What tcpdump and editcap users expect of the offline commands: a trailing
read filter and -c (tcpdump as the oracle), JSON and per-sample summaries
(read back and checked against tshark), gzip and zstd inputs, an output path
that is a directory refused before any work, and JSON from `pcapml ctl`."""
import gzip
import json
import os
import shutil
import subprocess

import pytest

from conftest import BIN, SAMPLE, run, tcpdump, tshark
from daemon_util import Daemon, write_config

TRACE = os.path.join(SAMPLE, "trace.pcap")
RULES = os.path.join(SAMPLE, "metadata.csv")
FILTERS = ["udp", "tcp port 80", "icmp or ip6", "host 203.0.113.200", "ether broadcast"]


@pytest.fixture(scope="module")
def labeled(tmp_path_factory):
    path = tmp_path_factory.mktemp("habits") / "labeled.pcapng"
    run("label", "-P", TRACE, "-L", RULES, "-W", path)  # every packet of the sample trace matches a rule
    return path


def packets(path):
    return tcpdump(path, "--nano").splitlines()


@pytest.mark.parametrize("expr", FILTERS)
def test_read_filter_passes_what_tcpdump_passes(tmp_path, labeled, expr):
    want = tcpdump(labeled, "--nano", expr).splitlines()
    # summary: the filter after the file, as one argument or as words, with -M or positional.
    for args in (["summary", labeled, expr, "--csv"], ["summary", "-M", labeled, *expr.split(), "--csv"]):
        total = run(*args).stdout.splitlines()[-1].split(",")
        assert total[0] == "TOTAL" and int(total[2]) == len(want), (args, total)
    # strip and sort keep the packets (strip: in order, so tcpdump's text is the same).
    run("strip", labeled, expr, "-W", tmp_path / "s.pcap")
    assert packets(tmp_path / "s.pcap") == want
    run("sort", labeled, "-W", tmp_path / "o.pcapng", expr)
    assert sorted(packets(tmp_path / "o.pcapng")) == sorted(want)
    if want:
        run("split", labeled, expr, "-O", tmp_path / "split")
        got = [line for f in sorted(os.listdir(tmp_path / "split")) if f.endswith(".pcap")
               for line in packets(tmp_path / "split" / f)]
        assert sorted(got) == sorted(want)


def test_bad_read_filter_fails_before_any_output(tmp_path, labeled):
    p = run("strip", labeled, "tcp prt 80", "-W", tmp_path / "s.pcap", check=False)
    assert p.returncode == 1 and p.stderr.startswith("pcapml: read filter 'tcp prt 80': "), p.stderr
    assert os.listdir(tmp_path) == []


def test_count_takes_the_first_n_that_pass(tmp_path, labeled):
    for n, expr in [(5, []), (7, ["udp"]), (1000, ["udp"])]:
        want = subprocess.run(["tcpdump", "-nn", "-tt", "--nano", "-c", str(n), "-r", str(labeled), *expr],
                              capture_output=True, text=True).stdout.splitlines()
        run("strip", labeled, "-c", n, *expr, "-W", tmp_path / "s.pcap")
        assert packets(tmp_path / "s.pcap") == want
        assert run("summary", "-c", n, labeled, *expr, "--csv").stdout.splitlines()[-1].split(",")[2] == \
            str(len(want))
    # -c 5 and a file: nothing blames the file.
    p = run("summary", "-c", "0", labeled, check=False)
    assert p.returncode == 2 and "-c" in p.stderr and str(labeled) not in p.stderr, p.stderr


def test_summary_json_and_samples_read_back(labeled):
    data = json.loads(run("summary", labeled, "--json").stdout)
    rows = tshark(labeled, "frame.comment", "frame.time_epoch", "frame.cap_len")
    by_sample = {}
    for comment, t, caplen in rows:
        sid, label = comment.split(",")[:2]
        s = by_sample.setdefault(sid, {"label": label, "packets": 0, "bytes": 0, "times": []})
        s["packets"] += 1
        s["bytes"] += int(caplen)
        s["times"].append(t)
    assert data["files"] == [str(labeled)]
    assert [s["id"] for s in data["samples"]] == sorted(by_sample, key=int)
    for s in data["samples"]:
        want = by_sample[s["id"]]
        assert (s["label"], s["packets"], s["bytes"]) == (want["label"], want["packets"], want["bytes"])
        # ISO times against tshark's epoch: the same instant to the nanosecond.
        first = min(want["times"], key=lambda t: tuple(map(int, t.split("."))))
        assert s["first"].endswith("Z") and s["first"][-10:-1] == first.split(".")[1]
    labels = data["labels"]
    for name, l in labels.items():
        mine = [s for s in data["samples"] if s["label"] == name]
        assert l["samples"] == len(mine) and l["packets"] == sum(s["packets"] for s in mine)
        assert l["first"] == min(s["first"] for s in mine) and l["last"] == max(s["last"] for s in mine)
    assert data["total"]["packets"] == len(rows) == sum(l["packets"] for l in labels.values())
    # --samples: the same rows as a table and as CSV.
    csv_rows = [r.split(",") for r in run("summary", labeled, "--samples", "--csv").stdout.splitlines()]
    assert csv_rows[0] == ["sample", "label", "packets", "bytes", "first", "last"]
    assert csv_rows[1:] == [[s["id"], s["label"], str(s["packets"]), str(s["bytes"]), s["first"], s["last"]]
                            for s in data["samples"]]
    text = run("summary", labeled, "--samples").stdout.splitlines()
    assert [l.split()[:4] for l in text[1:]] == [r[:4] for r in csv_rows[1:]]
    # Unlabeled packets: no sample.
    plain = json.loads(run("summary", TRACE, "--json").stdout)
    assert plain["labels"] == {"<unlabeled>": {"samples": 0, "packets": 52, "bytes": 41799,
                                               "first": "2023-11-14T22:13:20.000000000Z",
                                               "last": "2023-11-14T22:13:23.700000000Z",
                                               "first_ns": 1700000000000000000, "last_ns": 1700000003700000000}}
    assert plain["samples"] == []
    # Several files, then a filter: the words that name files are the files.
    two = run("summary", labeled, labeled, "udp", "port", "53", "--csv").stdout.splitlines()[-1].split(",")
    assert int(two[2]) == 2 * len(tcpdump(labeled, "udp port 53").splitlines())
    # -c counts over all the files.
    assert run("summary", "-c", "60", labeled, labeled, "--csv").stdout.splitlines()[-1].split(",")[2] == "60"


@pytest.mark.parametrize("compressor", ["gzip", "zstd"])
def test_gzip_and_zstd_inputs_read_as_they_are(tmp_path, labeled, compressor):
    packed = tmp_path / f"labeled.pcapng.{compressor[:2]}"
    subprocess.run(f"{compressor} -c {labeled} > {packed}", shell=True, check=True)
    assert run("summary", packed, "--json").stdout.replace(str(packed), "F") == \
        run("summary", labeled, "--json").stdout.replace(str(labeled), "F")
    for cmd in (["strip"], ["sort"]):
        run(*cmd, packed, "-W", tmp_path / "a")
        run(*cmd, labeled, "-W", tmp_path / "b")
        assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    # Standard input, and label -P of a compressed capture.
    with open(packed, "rb") as f:
        assert run("summary", "-", "--csv", stdin=f).stdout == run("summary", labeled, "--csv").stdout
    trace = tmp_path / f"trace.pcap.{compressor[:2]}"
    subprocess.run(f"{compressor} -c {TRACE} > {trace}", shell=True, check=True)
    run("label", "-P", trace, "-L", RULES, "-W", tmp_path / "l.pcapng")
    assert (tmp_path / "l.pcapng").read_bytes() == labeled.read_bytes()
    # Cut short: the complete packets, one warning. (A generated 1 MiB capture: several zstd blocks.)
    big = tmp_path / "big.pcap"
    subprocess.run([os.path.join(os.path.dirname(BIN), "bench", "make_capture"), str(big), "1MiB", "100"],
                   check=True, capture_output=True)
    subprocess.run(f"{compressor} -c {big} > {packed}", shell=True, check=True)
    data = packed.read_bytes()
    packed.write_bytes(data[:len(data) * 2 // 3])
    p = run("summary", packed, "--csv")
    assert p.stderr.startswith(f"pcapml: warning: {packed}: cut short: ") and len(p.stderr.splitlines()) == 1
    kept = int(p.stdout.splitlines()[-1].split(",")[2])
    assert 0 < kept < len(packets(big))


def test_gzip_concatenated_members(tmp_path, labeled):
    data = labeled.read_bytes()
    packed = tmp_path / "two.pcapng.gz"
    packed.write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]))
    assert run("summary", packed, "--csv").stdout == run("summary", labeled, "--csv").stdout


def test_output_path_that_is_a_directory_is_refused_before_any_work(tmp_path, labeled):
    ds = tmp_path / "ds"
    ds.mkdir()
    for args in (["label", "-P", TRACE, "-L", RULES, "-W"], ["sort", labeled, "-W"], ["strip", labeled, "-W"],
                 ["-M", labeled, "-s", "-W"]):
        for target in (f"{ds}/", str(ds)):
            p = run(*args, target, check=False)
            assert p.returncode == 1 and p.stderr == f"pcapml: cannot write {target}: it is a directory " \
                                                     "(give a file name)\n", (args, p.stderr)
    assert os.listdir(ds) == []


def test_ctl_status_and_list_as_json(tmp_path):
    sock = tmp_path / "ctl.sock"
    cfg = write_config(tmp_path / "d.toml", [{"file": TRACE, "pace": "recorded", "speed": 0.01}], [RULES],
                       tmp_path / "out", control=sock)
    d = Daemon(cfg)
    try:
        d.wait_for("ready")
        run("ctl", "-S", sock, "add", "--id", "run-3", "--label", "youtube", "--filter", "host 198.18.0.5",
            "--meta", "browser=firefox")
        run("ctl", "-S", sock, "add", "--id", "all", "--label", "x", "--sample", "flow")
        status = json.loads(run("ctl", "-S", sock, "status", "--json").stdout)
        assert status["pid"] == d.proc.pid and status["rules"] == 6 and status["runtime_rules"] == 2
        assert status["sources"] == [{"source": TRACE, "received": status["sources"][0]["received"],
                                      "kernel_drops": 0, "interface_drops": 0}]
        listed = json.loads(run("ctl", "-S", sock, "list", "--json").stdout)
        assert [(r["id"], r["label"], r["metadata"], r["filter"], r["sample"]) for r in listed] == \
            [("run-3", "youtube", "youtube,browser=firefox", "host 198.18.0.5", "rule"), ("all", "x", "x", None, "flow")]
        assert all(isinstance(r["packets"], int) and r["since"].endswith("Z") for r in listed)
        # Without --json: the lines as before.
        assert run("ctl", "-S", sock, "list").stdout.startswith("run-3\tyoutube,browser=firefox\thost 198.18.0.5\t")
    finally:
        assert d.stop() == 0
