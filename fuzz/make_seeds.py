#!/usr/bin/python3
"""Writes the generated seed inputs of fuzz/corpus/ (pure standard library).

The plugin targets read a packet stream (fuzz/fuzz_util.h PacketStream):
a link-type byte, then records of length (2 bytes), time step (1 byte), packet.
Seeds here: TLS ClientHellos (whole, split over segments, IPv6, other link
types), QUIC Initial frames (fuzz_quic protects them itself), DNS responses (A, AAAA, CNAME chains) followed by connections to
their addresses, the sample lab's captures as streams, and classic pcap
variants for the reader. Text seeds (rules, configs) are written by hand.
Run from the repository root: /usr/bin/python3 fuzz/make_seeds.py
"""
import ipaddress
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
LINK = {"ether": 0, "raw": 1, "sll": 2, "sll2": 3, "null": 4}


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_packet(src, dst, proto, l4):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 6:
        return struct.pack("!IHBB", 0x60000000, len(l4), proto, 64) + s.packed + d.packed + l4
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0, s.packed, d.packed)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def tcp(src, dst, sport, dport, seq, flags, payload=b""):
    l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    return ip_packet(src, dst, 6, l4)


def udp(src, dst, sport, dport, payload):
    return ip_packet(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def frame(link, ip):
    v6 = ip[0] >> 4 == 6
    etype = 0x86DD if v6 else 0x0800
    if link == "ether":
        return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack("!H", etype) + ip
    if link == "raw":
        return ip
    if link == "sll":
        return struct.pack("!HHH8sH", 0, 1, 6, b"\x66\x77\x88\x99\xaa\xbb\0\0", etype) + ip
    if link == "sll2":
        return struct.pack("!HHIHBB8s", etype, 0, 2, 1, 0, 6, b"\x66\x77\x88\x99\xaa\xbb\0\0") + ip
    return struct.pack("<I", 30 if v6 else 2) + ip  # BSD loopback


def stream(link, packets, step=1):
    out = bytes([LINK[link]])
    for p in packets:
        out += struct.pack("!HB", len(p), step) + p
    return out


def client_hello(name, padding=0):
    body = b"\x03\x03" + b"\x5a" * 32 + b"\x20" + b"\x11" * 32 + struct.pack("!HHH", 4, 0x1301, 0x1302) + b"\x01\x00"
    exts = struct.pack("!HH", 43, 3) + b"\x02\x03\x04"
    if name:
        n = name.encode()
        entry = b"\x00" + struct.pack("!H", len(n)) + n
        lst = struct.pack("!H", len(entry)) + entry
        exts += struct.pack("!HH", 0, len(lst)) + lst
    if padding:
        exts += struct.pack("!HH", 21, padding) + b"\0" * padding
    body += struct.pack("!H", len(exts)) + exts
    return b"\x01" + struct.pack("!I", len(body))[1:] + body


def varint(v):
    for size, tag in ((1, 0), (2, 0x40), (4, 0x80), (8, 0xC0)):
        if v < 1 << (8 * size - 2):
            b = v.to_bytes(size, "big")
            return bytes([b[0] | tag]) + b[1:]
    raise ValueError(v)


def crypto_frame(offset, data):
    return b"\x06" + varint(offset) + varint(len(data)) + data


def quic_seed(flags, frames):
    """fuzz_quic's input: flags, an 8-byte connection ID, the frames."""
    return bytes([flags]) + bytes.fromhex("8394c8f03e515708") + frames


def records(msg, fragment=16384):
    out = b""
    for at in range(0, len(msg), fragment):
        part = msg[at:at + fragment]
        out += b"\x16\x03\x01" + struct.pack("!H", len(part)) + part
    return out


def tls_connection(link, client, server, hello, split=None):
    cport, sport, seq = 40000, 443, 1000
    pkts = [frame(link, tcp(client, server, cport, sport, seq, 0x02)),
            frame(link, tcp(server, client, sport, cport, 5000, 0x12)),
            frame(link, tcp(client, server, cport, sport, seq + 1, 0x10))]
    parts = [hello] if split is None else [hello[:split], hello[split:]]
    at = seq + 1
    for p in parts:
        pkts.append(frame(link, tcp(client, server, cport, sport, at, 0x18, p)))
        at += len(p)
    pkts.append(frame(link, tcp(server, client, sport, cport, 5001, 0x18, b"\x16\x03\x03\x00\x04\x02\x00\x00\x00")))
    return pkts


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_response(qname, answers, flags=0x8180):
    """answers: (address or None, ttl, cname target)."""
    b = struct.pack("!HHHHHH", 0x1234, flags, 1, len(answers), 0, 0) + dns_name(qname) + struct.pack("!HH", 1, 1)
    owner = 0xC00C
    for addr, ttl, target in answers:
        if addr is None:
            t = dns_name(target)
            b += struct.pack("!HHHIH", owner, 5, 1, ttl, len(t))
            owner = 0xC000 | len(b)
            b += t
            continue
        a = ipaddress.ip_address(addr)
        b += struct.pack("!HHHIH", owner, 28 if a.version == 6 else 1, 1, ttl, len(a.packed)) + a.packed
    return b


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    at, out = 24, []
    while at + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[at + 8:at + 12])[0]
        out.append(data[at + 16:at + 16 + caplen])
        at += 16 + caplen
    return out


def pcap(packets, magic=0xA1B2C3D4, endian="<", linktype=1):
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for i, p in enumerate(packets):
        out += struct.pack(endian + "IIII", 1700000000 + i, 999999999 if magic == 0xA1B23C4D else 999999, len(p), len(p)) + p
    return out


def main():
    c4, s4, c6, s6 = "10.0.0.1", "93.184.216.34", "2001:db8::1", "2001:db8::443"
    hello = records(client_hello("www.example.com"))
    write("tls_sni", "hello-ether.bin", stream("ether", tls_connection("ether", c4, s4, hello)))
    write("tls_sni", "hello-split-ipv6.bin", stream("ether", tls_connection("ether", c6, s6, hello, split=40)))
    write("tls_sni", "hello-sll2.bin", stream("sll2", tls_connection("sll2", c4, s4, records(client_hello("WWW.Test")))))
    write("tls_sni", "hello-records-raw.bin",
          stream("raw", tls_connection("raw", c4, s4, records(client_hello("a.example.com", 600), 200), split=150)))
    write("tls_sni", "hello-no-name-null.bin", stream("null", tls_connection("null", c4, s4, records(client_hello("")))))
    write("tls_sni", "client-hello-record.bin", hello)

    quic_hello = client_hello("www.example.com")
    write("quic", "v1-one-initial.bin", quic_seed(0, crypto_frame(0, quic_hello) + b"\0" * 40))
    write("quic", "v2-one-initial.bin", quic_seed(1, b"\x01" + crypto_frame(0, quic_hello)))
    # Out of order, with PING, ACK and PADDING between, over three Initials.
    half = len(quic_hello) // 2
    write("quic", "v1-out-of-order.bin",
          quic_seed(4, crypto_frame(half, quic_hello[half:]) + b"\x01\0\0" + b"\x02\x00\x00\x00\x00" +
                    crypto_frame(0, quic_hello[:half])))
    write("quic", "no-name.bin", quic_seed(0, crypto_frame(0, client_hello(""))))
    write("quic", "close.bin", quic_seed(2, b"\x1c\x0a\x00\x03bye" + crypto_frame(0, quic_hello[:10])))

    resp = dns_response("www.example.com", [("93.184.216.34", 300, ""), ("2001:db8::443", 60, "")])
    cname = dns_response("cdn.example.com", [(None, 300, "edge.example.net"), ("198.51.100.7", 5, "")])
    dns_pkts = [frame("ether", udp("10.0.0.53", c4, 53, 33333, resp)),
                frame("ether", tcp(c4, "93.184.216.34", 40000, 443, 1, 0x02)),
                frame("ether", tcp(c6, "2001:db8::443", 40001, 443, 1, 0x02)),
                frame("ether", udp("10.0.0.53", c4, 53, 33334, cname)),
                frame("ether", tcp("198.51.100.7", c4, 80, 40002, 1, 0x12))]
    write("dns", "answers-then-connections.bin", stream("ether", dns_pkts))
    write("dns", "answers-sll.bin", stream("sll", [frame("sll", udp("10.0.0.53", c4, 53, 1000, cname)),
                                                   frame("sll", udp(c4, "198.51.100.7", 1000, 9999, b"x"))]))
    write("dns", "response-message.bin", resp)
    write("dns", "cname-message.bin", cname)

    sample = os.path.join(ROOT, "..", "config", "sample", "dataset")
    for name in ("web", "ping", "dns"):
        write("flow_position", name + ".bin", stream("ether", read_pcap(os.path.join(sample, name + ".pcap"))))
    write("flow_position", "ipv6.bin", stream("ether", read_pcap(os.path.join(sample, "v6", "ipv6.pcap"))))
    write("flow_position", "sll-mixed.bin",
          stream("sll", [frame("sll", tcp(c4, s4, 1, 2, 0, 2)), frame("sll", tcp(s4, c4, 2, 1, 0, 0x12)),
                         frame("sll", udp(c6, s6, 5, 6, b"abc"))]))
    big_jump = bytes([0]) + struct.pack("!HB", 0, 255) + struct.pack("!q", 2**63 - 2) + b""
    write("flow_position", "crash-tick-overflow-time-jump.bin", big_jump)

    filters = [("tcp port 80", "ether", web_pkt := read_pcap(os.path.join(sample, "web.pcap"))[0]),
               ("host 10.0.0.1 or 93.184.216.34 and tcp", "ether", frame("ether", tcp(c4, s4, 1, 443, 0, 2))),
               ("vlan 7 and udp port 53", "ether",
                web_pkt[:12] + b"\x81\x00\x00\x07" + frame("ether", udp(c4, s4, 1000, 53, b"q"))[12:]),
               ("ether src 66:77:88:99:aa:bb and not ip6", "ether", frame("ether", udp(c4, s4, 1, 2, b""))),
               ("portrange 1-1024 and (tcp or udp)", "sll", frame("sll", udp(c6, s6, 5353, 53, b"x"))),
               ("arp or rarp", "ether", bytes.fromhex("ffffffffffff66778899aabb08060001080006040001"
                                                      "66778899aabb0a000001000000000000" "0a000002")),
               ("net 2001:db8::/32 and dst port 443", "sll2", frame("sll2", tcp(c6, s6, 40000, 443, 0, 2))),
               ("icmp and src host 10.0.0.1", "raw", ip_packet(c4, s4, 1, b"\x08\0\0\0\0\0\0\0")),
               ("ip and not (tcp or udp) or ip6 proto 17", "raw", ip_packet(c6, s6, 17, b"\0" * 8))]
    for i, (expr, link, pkt) in enumerate(filters):
        write("filter_expr", "filter-%02d.bin" % i, expr.encode() + b"\n" + bytes([LINK[link]]) + pkt)

    web = read_pcap(os.path.join(sample, "web.pcap"))[:4]
    write("reader", "pcap-nanosecond.pcap", pcap(web, magic=0xA1B23C4D))
    write("reader", "pcap-big-endian.pcap", pcap(web, endian=">"))
    write("reader", "pcap-raw-ip.pcap", pcap([p[14:] for p in web], linktype=101))


if __name__ == "__main__":
    main()
