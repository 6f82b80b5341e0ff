// Writes a synthetic classic pcap (microsecond magic, like tcpdump's) of a
// given size for the benchmarks: Ethernet frames of 64, 576 and 1500 bytes
// in a fixed mix, IPv4 TCP/UDP between many hosts of 198.18.0.0/15 (the
// benchmarking range, RFC 2544) and some IPv6, 1 µs apart. Deterministic.
//
//   make_capture OUT.pcap SIZE [HOSTS [SYN_EVERY]]     e.g. make_capture in.pcap 1GiB 65536
// SYN_EVERY N > 0: every Nth TCP packet is a SYN (a connection that never
// goes on: a plugin that holds it holds it until its limit).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/units.h"

namespace {

uint64_t Next(uint64_t* s) {  // xorshift64*: fast and reproducible
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

void Put16(uint8_t* p, uint16_t v) { p[0] = v >> 8, p[1] = v & 0xff; }

size_t Frame(uint8_t* f, size_t len, uint64_t r, uint32_t hosts, uint64_t syn_every) {
  static uint64_t tcp_packets = 0;
  memset(f, 0, len);
  uint32_t a = static_cast<uint32_t>(r % hosts), b = static_cast<uint32_t>((r >> 20) % hosts);
  memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
  f[5] = static_cast<uint8_t>(a), f[11] = static_cast<uint8_t>(b);
  bool v6 = (r >> 40) % 10 == 0;
  bool tcp = (r >> 44) % 3 != 0;
  uint8_t* l4;
  if (v6) {
    Put16(f + 12, 0x86dd);
    uint8_t* ip = f + 14;
    ip[0] = 0x60;
    Put16(ip + 4, static_cast<uint16_t>(len - 54));
    ip[6] = tcp ? 6 : 17, ip[7] = 64;
    ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8;  // 2001:db8::/32
    Put16(ip + 22, static_cast<uint16_t>(a));
    ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8;
    Put16(ip + 38, static_cast<uint16_t>(b));
    l4 = ip + 40;
  } else {
    Put16(f + 12, 0x0800);
    uint8_t* ip = f + 14;
    ip[0] = 0x45;
    Put16(ip + 2, static_cast<uint16_t>(len - 14));
    ip[8] = 64, ip[9] = tcp ? 6 : 17;
    uint32_t sa = 0xC6120000u | a, da = 0xC6120000u | (b ^ 0x10000u);  // 198.18.0.0/15
    for (int i = 0; i < 4; ++i) ip[12 + i] = sa >> (24 - 8 * i), ip[16 + i] = da >> (24 - 8 * i);
    l4 = ip + 20;
  }
  Put16(l4, static_cast<uint16_t>(1024 + (r >> 48) % 60000));
  static const uint16_t kPorts[] = {80, 443, 53, 22, 8080, 123, 5353, 9000};
  Put16(l4 + 2, kPorts[(r >> 52) % 8]);
  if (tcp)
    l4[12] = 0x50, l4[13] = syn_every && ++tcp_packets % syn_every == 0 ? 0x02 : 0x10;
  else
    Put16(l4 + 4, static_cast<uint16_t>(f + len - l4));
  return len;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: make_capture OUT.pcap SIZE [HOSTS [SYN_EVERY]]\n");
    return 2;
  }
  uint64_t size;
  std::string err;
  if (!pcapml::ParseBytes(argv[2], &size, &err)) {
    fprintf(stderr, "make_capture: %s\n", err.c_str());
    return 2;
  }
  uint32_t hosts = argc > 3 ? static_cast<uint32_t>(strtoul(argv[3], nullptr, 10)) : 65536;
  uint64_t syn_every = argc > 4 ? strtoull(argv[4], nullptr, 10) : 0;
  FILE* out = fopen(argv[1], "wb");
  if (!out) {
    perror(argv[1]);
    return 1;
  }
  setvbuf(out, nullptr, _IOFBF, 1 << 20);
  uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
  fwrite(header, sizeof header, 1, out);
  static const size_t kSizes[] = {64, 64, 64, 576, 576, 1500, 1500, 1500};
  uint8_t frame[1500];
  uint64_t state = 0x9E3779B97F4A7C15ULL, written = sizeof header, n = 0;
  uint64_t ts_us = 1700000000ULL * 1000000;
  while (written < size) {
    uint64_t r = Next(&state);
    size_t len = Frame(frame, kSizes[r % 8], r, hosts, syn_every);
    uint32_t rec[4] = {static_cast<uint32_t>(ts_us / 1000000), static_cast<uint32_t>(ts_us % 1000000),
                       static_cast<uint32_t>(len), static_cast<uint32_t>(len)};
    fwrite(rec, sizeof rec, 1, out);
    fwrite(frame, len, 1, out);
    written += sizeof rec + len;
    ts_us += 1;
    ++n;
  }
  if (fclose(out) != 0) {
    perror(argv[1]);
    return 1;
  }
  fprintf(stderr, "make_capture: %s: %llu packets, %llu bytes\n", argv[1], static_cast<unsigned long long>(n),
          static_cast<unsigned long long>(written));
  return 0;
}
