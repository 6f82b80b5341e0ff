// The part of libpcap's filter language pcapml evaluates itself, without
// running BPF: host/net/ether/port/portrange with src/dst, ip/ip6/arp/rarp,
// tcp/udp/icmp, a leading vlan, and and/or/not. Anything else is left to
// libpcap (the rule keeps its BPF program). Evaluation reproduces the code
// pcap_compile generates, offsets and quirks included: `host` also matches
// ARP/RARP addresses, `port` skips non-first IPv4 fragments and does not walk
// IPv6 extension headers, `tcp`/`udp` look behind one IPv6 fragment header,
// `icmp` is IPv4 only, and every `vlan` shifts the offsets of everything
// parsed after it by 4 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rules/packet_headers.h"

namespace pcapml {

enum class Dir : uint8_t { kSrcOrDst, kSrc, kDst };

// What a primitive tests.
enum class Test : uint8_t {
  kEtherType,  // ip, ip6, arp, rarp: the link-layer protocol field
  kIpProto,    // tcp, udp, icmp
  kHost4,      // IPv4 host/net: IPv4 and/or ARP/RARP addresses (via)
  kHost6,      // IPv6 host/net
  kEther,      // ether host/src/dst (Ethernet only)
  kPort,       // port/portrange over TCP/UDP/SCTP (via)
  kVlan,       // vlan [id] (Ethernet only)
};

// Bits of Primitive::via.
constexpr uint8_t kViaIp = 1, kViaArp = 2, kViaRarp = 4;   // kHost4
constexpr uint8_t kViaTcp = 1, kViaUdp = 2, kViaSctp = 4;  // kPort
constexpr uint8_t kVlanId = 1;                             // kVlan: value is the id

struct Primitive {
  Test test = Test::kEtherType;
  Dir dir = Dir::kSrcOrDst;
  uint8_t depth = 0;               // 'vlan' keywords parsed before this primitive
  uint8_t via = 0;                 // see kVia*
  uint8_t prefix_len = 0;          // host/net
  uint16_t value = 0;              // ethertype, IP protocol, low port, vlan id
  uint16_t high = 0;               // high port
  std::array<uint8_t, 16> addr{};  // network byte order, masked; ether: first 6
  std::array<uint8_t, 16> mask{};
};

struct FilterNode {
  enum Op : uint8_t { kPrimitive, kAnd, kOr, kNot };
  Op op = kPrimitive;
  uint16_t a = 0, b = 0;  // children (kNot: a), or the primitive's index
};

struct FilterExpr {
  std::vector<FilterNode> nodes;
  std::vector<Primitive> primitives;
  uint16_t root = 0;
  uint8_t max_depth = 0;       // deepest vlan offset any primitive reads
  bool ethernet_only = false;  // uses ether or vlan
};

// Parses `text` into *out; false if it uses anything outside the subset
// (then the caller uses libpcap). Only expressions that pcap_compile accepts
// are passed here, so false never means an error.
bool ParseFilterExpr(std::string_view text, FilterExpr* out);

// Evaluates expr on headers decoded with max depth >= expr.max_depth. The
// headers must be complete (PacketHeaders::complete): then the answer is
// exactly pcap_offline_filter's.
bool Evaluate(const FilterExpr& expr, const PacketHeaders& headers);

// Evaluates one primitive (same conditions).
bool TestPrimitive(const Primitive& t, const PacketHeaders& h);

}  // namespace pcapml
