"""pcapml.dask.samples(): a LocalCluster of two worker processes counts the
packets per label of a daemon's rotated files as `pcapml summary` does.

Runs the pcapml binary (PCAPML_BIN, default build/pcapml) and fails without it."""
import csv
import io
import os

import pytest

import pcapml
from pcapgen import pcap
from test_with_pcapml import T0, run, udp

dask = pytest.importorskip("dask", reason="python3-dask is not installed (scripts/deps.sh installs it)")
distributed = pytest.importorskip("distributed",
                                  reason="python3-distributed is not installed (scripts/deps.sh installs it)")
import pcapml.dask  # noqa: E402


def daemon_files(tmp_path):
    """The daemon replaying a capture of 600 packets into files of 70 packets: 9 files."""
    trace = [(T0 + i * 1000, udp("10.0.%d.%d" % (i % 2, 1 + i % 5), "8.8.8.8", bytes([i % 256]) * (20 + i % 90),
                                 sport=1000 + i % 13))
             for i in range(600)]
    (tmp_path / "trace.pcap").write_bytes(pcap(trace, "<", True))
    rules = ["BPF:net 10.0.0.0/24,alpha", "BPF:host 10.0.1.2,beta", "BPF:host 10.0.1.3,gamma,g3"]
    (tmp_path / "rules.csv").write_text("\n".join(rules) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "d.toml").write_text(
        f'[[source]]\nfile = "{tmp_path / "trace.pcap"}"\npace = "fast"\n'
        f'[rules]\nfiles = ["{tmp_path / "rules.csv"}"]\nunmatched = "keep"\n'
        f'[output]\ndirectory = "{out}"\nprefix = "d"\nrotate_packets = 70\n'
        '[metrics]\nlisten = ""\n')  # no endpoint: other tests may hold the default port
    run("daemon", "--config", str(tmp_path / "d.toml"))
    return sorted(str(out / f) for f in os.listdir(out))


def summary_packets(files):
    total = {}
    for f in files:
        for row in csv.DictReader(io.StringIO(run("summary", "-M", f, "--csv"))):
            if row["label"] not in ("TOTAL", "<unlabeled>"):
                total[row["label"]] = total.get(row["label"], 0) + int(row["packets"])
    return total


@pytest.mark.usefixtures("backend")
def test_local_cluster_counts_packets_per_label_as_summary_does(tmp_path):
    files = daemon_files(tmp_path)
    assert len(files) == 9
    bag = pcapml.dask.samples(files)
    assert bag.npartitions == len(files)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        counted = dict(bag.map(lambda s: (s.meta["label"], len(s)))
                       .foldby(lambda kv: kv[0], lambda total, kv: total + kv[1], 0, lambda a, b: a + b, 0)
                       .compute())
        assert len(client.scheduler_info()["workers"]) == 2
        samples = bag.filter(lambda s: s.meta["label"] == "gamma").compute()  # samples sent back, packets and all
    assert counted == summary_packets(files) and set(counted) == {"alpha", "beta", "gamma"}
    local = [s for f in files for s in pcapml.sampler(f) if s.meta["label"] == "gamma"]
    assert [(s.sid, list(s), s.timestamps_ns(), s.link_type) for s in samples] == \
        [(s.sid, list(s), s.timestamps_ns(), s.link_type) for s in local]


def directory_dataset(tmp_path):
    """`pcapml label -D` over 60 small captures, each one sample: a file grouped by sample that says so."""
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    lines = ["filename,label"]
    for n in range(60):
        trace = [(T0 + n * 10**9 + i * 1000, udp(f"10.1.{n}.1", "8.8.8.8", bytes([n]) * (20 + (i * 37 + n) % 200)))
                 for i in range(20 + n % 31)]
        (dataset / f"f{n:02d}.pcap").write_bytes(pcap(trace, "<", True))
        lines.append(f"f{n:02d}.pcap,{['web', 'dns', 'ssh'][n % 3]}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "grouped.pcapng"
    run("label", "-D", str(dataset), "-L", str(tmp_path / "labels.csv"), "-W", str(out))
    return out


@pytest.mark.usefixtures("backend")
def test_a_large_grouped_file_is_cut_into_byte_ranges_of_whole_samples(tmp_path):
    """One partition per 16 KiB of whole samples; the counts per label are summary's,
    and every sample is in the bag once, in the file's order."""
    grouped = directory_dataset(tmp_path)
    size = grouped.stat().st_size
    assert size > 8 * 16384
    bag = pcapml.dask.samples(str(grouped), partition_bytes="16KiB")
    assert size // (16384 + 12000) <= bag.npartitions <= size // 16384  # a sample is under 12,000 bytes
    assert pcapml.dask.samples(str(grouped)).npartitions == 1  # smaller than the default 256 MiB
    assert pcapml.dask.samples(str(grouped), partition_bytes=None).npartitions == 1
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        counted = dict(bag.map(lambda s: (s.meta["label"], len(s)))
                       .foldby(lambda kv: kv[0], lambda total, kv: total + kv[1], 0, lambda a, b: a + b, 0)
                       .compute())
        per_partition = bag.map_partitions(lambda samples: [sum(1 for _ in samples)]).compute()
        seen = bag.map(lambda s: (s.sid, s.label, len(s), s[0][0], s[-1][0], s.timestamps_ns())).compute()
    assert counted == summary_packets([str(grouped)]) and set(counted) == {"web", "dns", "ssh"}
    assert len(per_partition) == bag.npartitions and min(per_partition) > 0 and sum(per_partition) == 60
    local = [(s.sid, s.label, len(s), s[0][0], s[-1][0], s.timestamps_ns()) for s in pcapml.sampler(grouped)]
    assert seen == local  # every sample exactly once, in the file's order, idx as in the whole file
    assert len({sid for sid, *_ in seen}) == 60
