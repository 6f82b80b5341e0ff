#!/usr/bin/python3
"""Regenerates the bundled sample captures (deterministic: fixed times, seeds).

A small lab: a web client, a DNS lookup, pings, a video-like UDP stream and
IPv6 traffic, with documentation-range addresses (RFC 5737 / RFC 3849).
Writes dataset/*.pcap + labels.txt (directory mode) and trace.pcap +
metadata.csv (capture mode). Run: /usr/bin/python3 config/sample/make_sample.py
"""
import os
import random

from scapy.all import DNS, DNSQR, DNSRR, ICMP, IP, IPv6, TCP, UDP, Ether, Raw, wrpcap
from scapy.utils import PcapWriter

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000.0
CLIENT_MAC, ROUTER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:fe"


def eth(src_is_client=True):
    return Ether(src=CLIENT_MAC, dst=ROUTER_MAC) if src_is_client else Ether(src=ROUTER_MAC, dst=CLIENT_MAC)


def stamp(pkts, start, gap):
    for i, p in enumerate(pkts):
        p.time = start + i * gap
    return pkts


def web(start):
    c, s = "192.0.2.10", "198.51.100.80"
    sp = 49152
    pk = [eth() / IP(src=c, dst=s) / TCP(sport=sp, dport=80, flags="S", seq=1000),
          eth(False) / IP(src=s, dst=c) / TCP(sport=80, dport=sp, flags="SA", seq=5000, ack=1001),
          eth() / IP(src=c, dst=s) / TCP(sport=sp, dport=80, flags="A", seq=1001, ack=5001),
          eth() / IP(src=c, dst=s) / TCP(sport=sp, dport=80, flags="PA", seq=1001, ack=5001)
          / Raw(b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n")]
    body = b"HTTP/1.1 200 OK\r\nContent-Length: 2800\r\n\r\n" + bytes(random.randrange(256) for _ in range(2800))
    seq = 5001
    for off in range(0, len(body), 1400):
        chunk = body[off:off + 1400]
        pk.append(eth(False) / IP(src=s, dst=c) / TCP(sport=80, dport=sp, flags="A", seq=seq, ack=1038) / Raw(chunk))
        seq += len(chunk)
    pk.append(eth() / IP(src=c, dst=s) / TCP(sport=sp, dport=80, flags="FA", seq=1038, ack=seq))
    pk.append(eth(False) / IP(src=s, dst=c) / TCP(sport=80, dport=sp, flags="FA", seq=seq, ack=1039))
    return stamp(pk, start, 0.0125)


def dns(start):
    c, r = "192.0.2.10", "192.0.2.53"
    q = eth() / IP(src=c, dst=r) / UDP(sport=53000, dport=53) / DNS(id=7, rd=1, qd=DNSQR(qname="example.org"))
    a = eth(False) / IP(src=r, dst=c) / UDP(sport=53, dport=53000) / DNS(
        id=7, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.org"), an=DNSRR(rrname="example.org", rdata="198.51.100.80", ttl=300))
    return stamp([q, a], start, 0.004)


def ping(start):
    c, s = "192.0.2.10", "203.0.113.1"
    pk = []
    for i in range(4):
        pk.append(eth() / IP(src=c, dst=s) / ICMP(type=8, id=1, seq=i) / Raw(b"x" * 56))
        pk.append(eth(False) / IP(src=s, dst=c) / ICMP(type=0, id=1, seq=i) / Raw(b"x" * 56))
    return stamp(pk, start, 0.5)


def video(start):
    c, s = "192.0.2.10", "203.0.113.200"
    pk = [eth(False) / IP(src=s, dst=c) / UDP(sport=4433, dport=50000) / Raw(bytes(random.randrange(256) for _ in range(1200)))
          for _ in range(30)]
    return stamp(pk, start, 0.033)


def ipv6(start):
    c, s = "2001:db8::10", "2001:db8:1::443"
    pk = [eth() / IPv6(src=c, dst=s) / TCP(sport=50001, dport=443, flags="S"),
          eth(False) / IPv6(src=s, dst=c) / TCP(sport=443, dport=50001, flags="SA"),
          eth() / IPv6(src=c, dst=s) / TCP(sport=50001, dport=443, flags="A")]
    return stamp(pk, start, 0.02)


def main():
    random.seed(42)
    flows = {"web.pcap": ("web", web(T0)), "dns.pcap": ("dns", dns(T0 + 0.001)),
             "ping.pcap": ("ping", ping(T0 + 0.2)), "video.pcap": ("video", video(T0 + 0.0505)),
             "v6/ipv6.pcap": ("ipv6", ipv6(T0 + 1.0))}
    os.makedirs(os.path.join(HERE, "dataset", "v6"), exist_ok=True)
    for name, (_, pkts) in flows.items():
        nano = name == "video.pcap"  # one input with nanosecond timestamps
        w = PcapWriter(os.path.join(HERE, "dataset", name), nano=nano, sync=True)
        w.write(pkts)
        w.close()
    with open(os.path.join(HERE, "labels.txt"), "w") as f:
        f.write("filename,label\n")
        for name, (label, _) in flows.items():
            f.write(f"{name},{label}\n")
    everything = sorted((p for _, pkts in flows.values() for p in pkts), key=lambda p: float(p.time))
    wrpcap(os.path.join(HERE, "trace.pcap"), everything)
    with open(os.path.join(HERE, "metadata.csv"), "w") as f:
        f.write("# legacy rules: <filter>,<metadata>[,<hash_key>]; first match wins\n")
        f.write("BPF:tcp port 80,web,web-key\n")
        f.write("BPF:udp port 53,dns\n")
        f.write("BPF:icmp|TS_START:1700000000|TS_END:1700000001,ping-first-second\n")
        f.write("BPF:icmp,ping\n")
        f.write("BPF:ip6,ipv6,v6-key\n")
        f.write("BPF:udp and host 203.0.113.200,video\n")


if __name__ == "__main__":
    main()
