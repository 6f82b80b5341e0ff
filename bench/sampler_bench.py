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


def generate(path, size):
    """A labeled pcapng file of about `size` bytes, deterministic."""
    rnd = random.Random(1)
    payload = rnd.randbytes(1514)
    ts = 1_700_000_000_000_000_000
    with open(path, "wb") as out:
        out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                        + option(4, b"pcapml bench") + bytes(4)))
        out.write(block(1, struct.pack("<HHI", 1, 0, 262144) + option(9, b"\x09") + bytes(4)))
        written, n = out.tell(), 0
        while written < size:
            n += 1
            line = f"flow{n:06d}.pcap,{rnd.choice(['web', 'video', 'dns', 'ssh'])}"
            sid = int.from_bytes(hashlib.sha256(line.encode()).digest()[:8], "big")
            comment = option(1, f"{sid},{line.split(',')[1]}".encode()) + bytes(4)
            parts = []
            for _ in range(rnd.randint(20, 400)):
                r = rnd.random()
                caplen = rnd.randint(54, 80) if r < .45 else rnd.randint(100, 600) if r < .6 else rnd.randint(1400, 1514)
                ts += rnd.randint(1000, 10_000_000)
                head = struct.pack("<5I", 0, ts >> 32, ts & 0xFFFFFFFF, caplen, caplen)
                parts.append(block(6, head + payload[:caplen] + bytes(-caplen % 4) + comment))
            data = b"".join(parts)
            out.write(data)
            written += len(data)


def measure(kind, path):
    """Iterate every packet once with one reader; print a JSON line of counts and costs."""
    start, cpu0 = time.perf_counter(), time.process_time()
    packets = samples = 0
    if kind == "scapy":
        import logging
        logging.getLogger("scapy").setLevel(logging.ERROR)  # it warns on every comment without '\n'
        from scapy.utils import RawPcapNgReader
        for pkt, meta in RawPcapNgReader(path):
            packets += 1
    else:
        sys.path.insert(0, os.path.join(HERE, "..", "python"))
        import pcapML
        for traffic_sample in pcapML.sampler(path, grouped=kind == "grouped"):
            samples += 1
            for idx, sid, label, ts, pkt_buf in traffic_sample:
                packets += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"packets": packets, "samples": samples, "seconds": seconds,
                      "cpu": time.process_time() - cpu0,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", help="labeled pcapng to read (default: generate one)")
    parser.add_argument("--size-mb", type=int, default=1000, help="size of the generated file")
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "pcapml_bench.pcapng"),
                        help="where to generate it (reused if it is already that size or more)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every reader this many times, in turn, and keep each one's best")
    parser.add_argument("--measure", choices=READERS.values(), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure, args.file)
    path = args.file
    if path is None:
        path = args.out
        if not os.path.exists(path) or os.path.getsize(path) < args.size_mb * 10**6:
            print(f"writing {path} ...", flush=True)
            generate(path, args.size_mb * 10**6)
    with open(path, "rb") as f:  # warm the page cache so every reader starts alike
        while f.read(1 << 24):
            pass
    print(f"{path}: {os.path.getsize(path) / 1e6:.0f} MB, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    results = {}
    for _ in range(args.repeat):  # in turn, so a busy spell on the machine hits all readers alike
        for kind in READERS.values():
            out = subprocess.run([sys.executable, __file__, "--measure", kind, "--file", path],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            if kind not in results or r["seconds"] < results[kind]["seconds"]:
                results[kind] = r
    for name, kind in READERS.items():
        r = results[kind]
        print(f"{name:36s} {r['packets']:>9d} packets  {r['packets'] / r['seconds']:>10,.0f} packets/s"
              f"  ({r['packets'] / r['cpu']:>10,.0f} per CPU-second)  peak {r['peak_mib']:6.0f} MiB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    scapy = results["scapy"]["packets"] / results["scapy"]["seconds"]
    for kind in ("indexed", "grouped"):
        rate = results[kind]["packets"] / results[kind]["seconds"]
        print(f"{kind}: {rate / scapy:.1f}x scapy; >= 1M packets/s: {'yes' if rate >= 1e6 else 'NO'}")
    assert len({r["packets"] for r in results.values()}) == 1, "readers disagree on the packet count"


if __name__ == "__main__":
    main()
