"""The seed's example, unchanged: one line per sample with sampleID, packet count, label.

    pcapml -D dataset/ -L labels.txt -W dataset.pcapng
    PYTHONPATH=python python3 python/examples/seed_example.py dataset.pcapng
"""
import sys

import pcapML


def main(path):
    for traffic_sample in pcapML.sampler(path):
        sid = traffic_sample[0][1]
        metadata = traffic_sample[0][2]
        packets = 0
        for idx, sid, label, ts, pkt_buf in traffic_sample:
            packets += 1  # a feature extractor would look at pkt_buf here, e.g. scapy.Ether(pkt_buf)
        print(sid, packets, metadata)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: seed_example.py LABELED.pcapng")
    main(sys.argv[1])
