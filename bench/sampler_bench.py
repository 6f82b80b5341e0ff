#!/usr/bin/python3
"""Packets per second of the Python sampler against scapy's RawPcapNgReader.

    /usr/bin/python3 bench/sampler_bench.py                 # writes a ~1 GB file first
    /usr/bin/python3 bench/sampler_bench.py --file x.pcapng # or takes one

The generated file looks like `pcapml -D` output: one IDB (Ethernet,
if_tsresol=9), EPBs whose only option is the `<sampleID>,<label>` comment,
samples one after another, packet sizes mixed like real traffic (many small
ACK-sized packets, many full-size ones). Every reader runs in its own process
over the same file, so each peak memory (getrusage ru_maxrss) is its own.
Targets (the issue): the sampler reaches 1 million packets/s and twice scapy's.
"""
import argparse
import hashlib
import json
import os
import random
import resource
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
READERS = {
    "pcapML.sampler(path)": "indexed",
    "pcapML.sampler(path, grouped=True)": "grouped",
    "scapy RawPcapNgReader": "scapy",
}


def block(btype, body):
    return struct.pack("<II", btype, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def option(code, value):
    return struct.pack("<HH", code, len(value)) + value + bytes(-len(value) % 4)


def generate(path, size, concurrent=1):
    """A labeled pcapng file of about `size` bytes, deterministic. concurrent=1:
    samples one after another (as `pcapml -D` writes them); more: that many
    samples at a time, each taking turns of 1 to 4 packets (as capture mode and
    the daemon write them)."""
    rnd = random.Random(1)
    payload = rnd.randbytes(1514)
    ts = 1_700_000_000_000_000_000
    n = 0

    def sample():
        nonlocal n
        n += 1
        line = f"flow{n:06d}.pcap,{rnd.choice(['web', 'video', 'dns', 'ssh'])}"
        sid = int.from_bytes(hashlib.sha256(line.encode()).digest()[:8], "big")
        return [option(1, f"{sid},{line.split(',')[1]}".encode()) + bytes(4), rnd.randint(20, 400)]

    def packet(comment):
        nonlocal ts
        r = rnd.random()
        caplen = rnd.randint(54, 80) if r < .45 else rnd.randint(100, 600) if r < .6 else rnd.randint(1400, 1514)
        ts += rnd.randint(1000, 10_000_000)
        head = struct.pack("<5I", 0, ts >> 32, ts & 0xFFFFFFFF, caplen, caplen)
        return block(6, head + payload[:caplen] + bytes(-caplen % 4) + comment)

    with open(path, "wb") as out:
        out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                        + option(4, b"pcapml bench") + bytes(4)))
        out.write(block(1, struct.pack("<HHI", 1, 0, 262144) + option(9, b"\x09") + bytes(4)))
        written = out.tell()
        if concurrent == 1:
            while written < size:
                comment, count = sample()
                data = b"".join(packet(comment) for _ in range(count))
                out.write(data)
                written += len(data)
            return
        live = [sample() for _ in range(concurrent)]
        while written < size:
            parts = []
            for _ in range(1000):
                i = rnd.randrange(concurrent)
                for _ in range(min(rnd.randint(1, 4), live[i][1])):
                    parts.append(packet(live[i][0]))
                    live[i][1] -= 1
                if live[i][1] == 0:
                    live[i] = sample()
            data = b"".join(parts)
            out.write(data)
            written += len(data)


def measure(kind, path):
    """Iterate every packet once with one reader; print a JSON line of counts and costs.
    The clock starts after the import (scapy's takes a few tenths of a second)."""
    packets = samples = 0
    if kind == "scapy":
        import logging
        logging.getLogger("scapy").setLevel(logging.ERROR)  # it warns on every comment without '\n'
        from scapy.utils import RawPcapNgReader
        start, cpu0 = time.perf_counter(), time.process_time()
        for pkt, meta in RawPcapNgReader(path):
            packets += 1
    else:
        sys.path.insert(0, os.path.join(HERE, "..", "python"))
        import pcapML
        start, cpu0 = time.perf_counter(), time.process_time()
        for traffic_sample in pcapML.sampler(path, grouped=kind == "grouped"):
            samples += 1
            for idx, sid, label, ts, pkt_buf in traffic_sample:
                packets += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"packets": packets, "samples": samples, "seconds": seconds,
                      "cpu": time.process_time() - cpu0,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def loop_ns():
    """Nanoseconds a step of `while i < n: i += 1` takes, best of five: how fast the
    interpreter runs right now. On a shared virtual machine this moves by a factor
    of two from hour to hour, and every reader's packets/s with it."""
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


def prepare(path, size_mb, concurrent):
    """generate() the file unless it is there already, at least that size; warm it."""
    if not os.path.exists(path) or os.path.getsize(path) < size_mb * 10**6:
        print(f"writing {path} ...", flush=True)
        generate(path, size_mb * 10**6, concurrent)
    return warm(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", help="labeled pcapng to read (default: generate two)")
    parser.add_argument("--size-mb", type=int, default=1000, help="size of each generated file")
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "pcapml_bench.pcapng"),
                        help="where to generate the grouped file (reused if it is already that size "
                        "or more); the interleaved one goes beside it")
    parser.add_argument("--concurrent", type=int, default=64,
                        help="samples at a time in the interleaved file")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every reader this many times, in turn, and keep each one's best")
    parser.add_argument("--measure", choices=READERS.values(), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure, args.file)
    if args.file:
        if not os.path.isfile(args.file):
            parser.error(f"--file {args.file}: no such file")
        runs = [("file", warm(args.file), list(READERS))]
    else:
        interleaved = args.out.replace(".pcapng", "") + f"_interleaved{args.concurrent}.pcapng"
        runs = [("grouped file", prepare(args.out, args.size_mb, 1), list(READERS)),
                (f"interleaved file ({args.concurrent} samples at a time)",
                 prepare(interleaved, args.size_mb, args.concurrent),
                 [r for r, kind in READERS.items() if kind != "grouped"])]
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, interpreter {loop_ns():.1f} ns a loop step")
    results = {}
    for _ in range(args.repeat):  # in turn, so a busy spell on the machine hits all readers alike
        for what, path, names in runs:
            for name in names:
                out = subprocess.run([sys.executable, __file__, "--measure", READERS[name], "--file", path],
                                     check=True, capture_output=True, text=True).stdout
                r = json.loads(out)
                if (what, name) not in results or r["seconds"] < results[what, name]["seconds"]:
                    results[what, name] = r
    for what, path, names in runs:
        print(f"{what}: {path}, {os.path.getsize(path) / 1e6:.0f} MB")
        for name in names:
            r = results[what, name]
            print(f"  {name:36s} {r['packets']:>9d} packets  {r['packets'] / r['seconds']:>10,.0f} packets/s"
                  f"  ({r['packets'] / r['cpu']:>10,.0f} per CPU-second)  peak {r['peak_mib']:6.0f} MiB")
        assert len({results[what, name]["packets"] for name in names}) == 1, "readers disagree on the packet count"
    print(f"load average after: {os.getloadavg()[0]:.1f}, interpreter {loop_ns():.1f} ns a loop step")
    for what, path, names in runs:
        scapy = results[what, "scapy RawPcapNgReader"]
        for name in names[:-1]:
            r = results[what, name]
            rate = r["packets"] / r["seconds"]
            print(f"{what}, {name}: {rate / (scapy['packets'] / scapy['seconds']):.1f}x scapy; "
                  f">= 1M packets/s: {'yes' if rate >= 1e6 else 'NO'}")


if __name__ == "__main__":
    main()
