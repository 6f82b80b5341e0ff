#!/usr/bin/python3
"""Packets per second and peak memory of pcapml's sampler (native module and
pure Python), its numpy batches, dpkt and scapy, over the same generated files.

    /usr/bin/python3 bench/sampler_bench.py                  # 3M packets a file, written to /tmp once
    /usr/bin/python3 bench/sampler_bench.py --packets 500000 --repeat 3
    /usr/bin/python3 bench/sampler_bench.py --file x.pcapng  # one file of your own

Three generated files, deterministic, each with one IDB (Ethernet,
if_tsresol=9) and EPBs whose only option is the `<sampleID>,<label>` comment,
packet sizes mixed like real traffic (45% of 54-80 bytes, 15% of 100-600,
40% of 1400-1514, about 730 bytes on average):

- grouped: samples of 20 to 400 packets one after another (`pcapml -D`, `pcapml sort`);
- interleaved: --flows samples at a time (100,000 by default) taking turns of
  1 to 4 packets, as capture mode and the daemon write them;
- one sample: a single sample of --big-packets packets.

Every reader runs in its own process over the page-cached file, so each peak
RSS (getrusage ru_maxrss) is its own; the clock starts after its imports.
"""
import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_LOOP = "for idx, sid, label, ts, pkt_buf in sample"
READERS = {  # name -> (what it runs, files it runs on)
    "pcapml native, sampler(path)": ("native", "all"),
    "pcapml native, sampler(path, grouped=True)": ("native-grouped", "grouped"),
    "pcapml native, batches(path, nbytes=64)": ("batches", "all"),
    "pcapml native, batches(path, nbytes=64, grouped=True)": ("batches-grouped", "grouped"),
    "pcapml pure Python, sampler(path)": ("python", "all"),
    "pcapml pure Python, sampler(path, grouped=True)": ("python-grouped", "grouped"),
    "dpkt pcapng.Reader": ("dpkt", "all"),
    "scapy RawPcapNgReader": ("scapy", "all"),
}
TARGETS = {"grouped": 3e6, "interleaved": 2e6, "one sample": 3e6}


def block(btype, body):
    return struct.pack("<II", btype, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def option(code, value):
    return struct.pack("<HH", code, len(value)) + value + bytes(-len(value) % 4)


def generate(path, packets, concurrent, sample_packets=None):
    """A labeled pcapng file of `packets` packets, deterministic. concurrent=1:
    samples one after another; more: that many samples at a time, each taking
    turns of 1 to 4 packets. sample_packets: every sample that long (else 20 to 400)."""
    rnd = random.Random(1)
    payload = rnd.randbytes(1514)
    ts = 1_700_000_000_000_000_000
    n = 0

    def sample():
        nonlocal n
        n += 1
        line = f"flow{n:07d}.pcap,{rnd.choice(['web', 'video', 'dns', 'ssh'])}"
        sid = int.from_bytes(hashlib.sha256(line.encode()).digest()[:8], "big")
        return [option(1, f"{sid},{line.split(',')[1]}".encode()) + bytes(4), sample_packets or rnd.randint(20, 400)]

    def packet(comment):
        nonlocal ts
        r = rnd.random()
        caplen = rnd.randint(54, 80) if r < .45 else rnd.randint(100, 600) if r < .6 else rnd.randint(1400, 1514)
        ts += rnd.randint(1000, 10_000_000)
        head = struct.pack("<5I", 0, ts >> 32, ts & 0xFFFFFFFF, caplen, caplen)
        return block(6, head + payload[:caplen] + bytes(-caplen % 4) + comment)

    with open(path + ".partial", "wb") as out:
        out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                        + option(4, b"pcapml bench") + bytes(4)))
        out.write(block(1, struct.pack("<HHI", 1, 0, 262144) + option(9, b"\x09") + bytes(4)))
        live = [sample() for _ in range(concurrent)]
        written = 0
        while written < packets:
            parts = []
            for _ in range(1000):
                i = rnd.randrange(concurrent)
                for _ in range(min(rnd.randint(1, 4), live[i][1], packets - written)):
                    parts.append(packet(live[i][0]))
                    live[i][1] -= 1
                    written += 1
                if live[i][1] == 0:
                    live[i] = sample()
            out.write(b"".join(parts))
    os.rename(path + ".partial", path)


def measure(kind, path):
    """Iterate every packet once with one reader; print a JSON line of counts and costs."""
    packets = samples = 0
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    built = os.path.join(HERE, "..", "build", "python", "pcapml")  # CMake's module, unless told otherwise
    if "PCAPML_NATIVE_DIR" not in os.environ and os.path.isdir(built):
        os.environ["PCAPML_NATIVE_DIR"] = built
    if kind.startswith("python"):
        os.environ["PCAPML_NATIVE"] = "0"
    if kind == "scapy":
        import logging
        logging.getLogger("scapy").setLevel(logging.ERROR)  # it warns on every comment without '\n'
        from scapy.utils import RawPcapNgReader
    elif kind == "dpkt":
        import dpkt
    else:
        import numpy  # noqa: F401  (batches' import, outside the clock like the others')
        import pcapML
        assert (pcapML.native.NATIVE is None) == kind.startswith("python"), "the native module is not built"
    start, cpu0 = time.perf_counter(), time.process_time()
    if kind == "scapy":
        for pkt, meta in RawPcapNgReader(path):
            packets += 1
    elif kind == "dpkt":
        with open(path, "rb") as f:
            for ts, buf in dpkt.pcapng.Reader(f):
                packets += 1
    elif kind.startswith("batches"):
        for batch in pcapML.batches(path, nbytes=64, grouped=kind.endswith("grouped")):
            packets += len(batch["ts_ns"])
            samples += len(batch["sample_id"])  # a sample split over two batches counts twice
    else:
        for sample in pcapML.sampler(path, grouped=kind.endswith("grouped")):
            samples += 1
            for idx, sid, label, ts, pkt_buf in sample:
                packets += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"packets": packets, "samples": samples, "seconds": seconds,
                      "cpu": time.process_time() - cpu0,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def loop_ns():
    """Nanoseconds a step of `while i < n: i += 1` takes, best of five: how fast the
    interpreter runs right now (on a shared virtual machine this moves by 2x)."""
    best = float("inf")
    for _ in range(5):
        i, n, start = 0, 1_000_000, time.perf_counter()
        while i < n:
            i += 1
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def warm(path):
    """Reads the file once so every reader starts with it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass
    return path


def files(args):
    """(name, path) of each file to read, generated unless already there."""
    if args.file:
        return [("file", args.file)]
    kinds = [("grouped", f"grouped_{args.packets}.pcapng", 1, None),
             ("interleaved", f"interleaved_{args.packets}_{args.flows}.pcapng", args.flows, None),
             ("one sample", f"one_sample_{args.big_packets}.pcapng", 1, args.big_packets)]
    out = []
    for name, base, concurrent, per_sample in kinds:
        if args.only and name not in args.only:
            continue
        path = os.path.join(args.dir, "pcapml_bench_" + base)
        if not os.path.exists(path):
            print(f"writing {path} ...", flush=True)
            generate(path, per_sample or args.packets, concurrent, per_sample)
        out.append((name, path))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", help="a labeled pcapng to read instead of the generated ones")
    parser.add_argument("--packets", type=int, default=3_000_000, help="packets of the grouped and interleaved files")
    parser.add_argument("--flows", type=int, default=100_000, help="samples at a time in the interleaved file")
    parser.add_argument("--big-packets", type=int, default=3_000_000, help="packets of the one-sample file")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the generated files are kept")
    parser.add_argument("--only", action="append", choices=["grouped", "interleaved", "one sample"],
                        help="read only this file (repeatable)")
    parser.add_argument("--readers", help="comma-separated kinds to run (native, native-grouped, batches, "
                        "batches-grouped, python, python-grouped, dpkt, scapy)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every reader this many times, in turn; the median is reported")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure, args.file)
    if args.file and not os.path.isfile(args.file):
        parser.error(f"--file {args.file}: no such file")
    chosen = set(args.readers.split(",")) if args.readers else None
    runs = []
    for what, path in files(args):
        names = [name for name, (kind, on) in READERS.items()
                 if (on == "all" or what in ("grouped", "one sample", "file")) and (chosen is None or kind in chosen)]
        runs.append((what, warm(path), names))
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, interpreter {loop_ns():.1f} ns a loop step")
    results = {}
    for _ in range(args.repeat):  # in turn, so a busy spell on the machine hits all readers alike
        for what, path, names in runs:
            for name in names:
                done = subprocess.run([sys.executable, __file__, "--measure", READERS[name][0], "--file", path],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f"{name} on {path} failed:\n{done.stderr}")
                results.setdefault((what, name), []).append(json.loads(done.stdout))
    report(runs, results)


def report(runs, results):
    for what, path, names in runs:
        print(f"{what}: {path}, {os.path.getsize(path) / 1e6:.0f} MB")
        rates = {}
        for name in names:
            rs = results[what, name]
            rate = statistics.median(r["packets"] / r["seconds"] for r in rs)
            cpu_rate = statistics.median(r["packets"] / r["cpu"] for r in rs)
            rates[name] = rate
            print(f"  {name:48s} {rs[0]['packets']:>9d} packets {rate:>12,.0f} packets/s "
                  f"({cpu_rate:>12,.0f} per CPU-second)  peak {max(r['peak_mib'] for r in rs):6.0f} MiB")
        counts = {results[what, name][0]["packets"] for name in names}
        assert len(counts) == 1, f"readers disagree on the packet count: {counts}"
        dpkt = rates.get("dpkt pcapng.Reader")
        for name in names:
            if name.startswith("pcapml native"):
                target = 10e6 if "batches" in name else TARGETS.get(what)
                said = [f"{rates[name] / dpkt:.1f}x dpkt"] if dpkt else []
                if target is not None:
                    said.append(f"target {target / 1e6:.0f}M packets/s: " + ("met" if rates[name] >= target else "NOT met"))
                print(f"  {name}: {', '.join(said)}")
    print(f"load average after: {os.getloadavg()[0]:.1f}, interpreter {loop_ns():.1f} ns a loop step")


if __name__ == "__main__":
    main()
