// Random packets and random filter expressions for the differential tests:
// small pools of addresses and ports so that filters match often, and the
// awkward cases libpcap treats specially (VLAN/QinQ, IPv4 options and
// fragments, IPv6 fragment headers, ARP/RARP, 802.3 frames, truncation).
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace pcapml::testing_packets {

inline const std::vector<std::string> kIpv4 = {"10.0.0.1", "10.0.0.2", "10.0.1.5", "192.168.1.1", "172.16.5.4"};
inline const std::vector<std::string> kIpv4Nets = {"10.0.0.0/8",     "10.0.0.0/24", "10.0.1.0/24",
                                                   "192.168.0.0/16", "0.0.0.0/0",   "10.0.0.2/32"};
inline const std::vector<std::string> kIpv6 = {"2001:db8::1", "2001:db8::2", "2001:db8:1::5", "fe80::1"};
inline const std::vector<std::string> kIpv6Nets = {"2001:db8::/32", "2001:db8:1::/48", "fe80::/10"};
inline const std::vector<std::string> kMacs = {"00:11:22:33:44:55", "00:11:22:33:44:66", "ff:ff:ff:ff:ff:ff",
                                               "02:00:00:00:00:01"};
inline const std::vector<uint16_t> kPorts = {80, 443, 53, 1000, 1003, 12345};
inline const std::vector<uint16_t> kVlans = {10, 20, 4095};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Int(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  bool Chance(int percent) { return Int(100) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(static_cast<int>(v.size()))];
  }

  // One packet of the given link type (1, 101, 113, 276, 228, 229).
  std::vector<uint8_t> Packet(uint16_t link_type) {
    std::vector<uint8_t> p;
    uint16_t ethertype = 0;
    std::vector<uint8_t> l3 = Network(&ethertype, link_type);
    if (link_type == 1) {
      Mac(&p), Mac(&p);
      for (int tags = Chance(30) ? 1 + Int(2) : 0; tags > 0; --tags) {
        const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100};
        Put16(&p, tpids[Int(3)]);
        Put16(&p, static_cast<uint16_t>(Int(8) << 13 | Pick(kVlans)));
      }
      Put16(&p, ethertype);
    } else if (link_type == 113) {
      for (int i = 0; i < 14; ++i) p.push_back(static_cast<uint8_t>(Int(256)));
      Put16(&p, ethertype);
    } else if (link_type == 276) {
      Put16(&p, ethertype);
      for (int i = 0; i < 18; ++i) p.push_back(static_cast<uint8_t>(Int(256)));
    }
    p.insert(p.end(), l3.begin(), l3.end());
    if (Chance(12)) p.resize(Int(static_cast<int>(p.size()) + 1));  // truncated capture
    return p;
  }

  // A random expression in (and around) the subset FilterExpr evaluates.
  std::string Filter(bool ethernet, int depth = 0) {
    if (depth < 3 && Chance(45)) {
      const char* ops[] = {" and ", " or ", " && ", " || "};
      std::string left = Filter(ethernet, depth + 1);
      if (Chance(25)) return left + ops[Int(4)] + Continuation(left);
      std::string e = left + ops[Int(4)] + Filter(ethernet, depth + 1);
      return Chance(30) ? "(" + e + ")" : e;
    }
    if (Chance(12)) return (Chance(50) ? "not " : "!") + Filter(ethernet, depth + 1);
    if (ethernet && Chance(10)) return Chance(50) ? "vlan" : "vlan " + std::to_string(Pick(kVlans));
    return Primitive(ethernet);
  }

 private:
  static void Put16(std::vector<uint8_t>* p, uint16_t v) {
    p->push_back(static_cast<uint8_t>(v >> 8));
    p->push_back(static_cast<uint8_t>(v));
  }
  void Mac(std::vector<uint8_t>* p) {
    unsigned b[6];
    sscanf(Pick(kMacs).c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
    for (unsigned x : b) p->push_back(static_cast<uint8_t>(x));
  }
  void Addr(std::vector<uint8_t>* p, bool v6) {
    uint8_t a[16];
    if (Chance(10)) {
      for (int i = 0; i < (v6 ? 16 : 4); ++i) p->push_back(static_cast<uint8_t>(Int(256)));
      return;
    }
    inet_pton(v6 ? AF_INET6 : AF_INET, (v6 ? Pick(kIpv6) : Pick(kIpv4)).c_str(), a);
    p->insert(p->end(), a, a + (v6 ? 16 : 4));
  }
  void Ports(std::vector<uint8_t>* p, int extra) {
    Put16(p, Pick(kPorts));
    Put16(p, Chance(20) ? static_cast<uint16_t>(1000 + Int(10)) : Pick(kPorts));
    for (int i = 0; i < extra; ++i) p->push_back(static_cast<uint8_t>(Int(256)));
  }

  std::vector<uint8_t> Ipv4() {
    std::vector<uint8_t> p;
    int ihl = Chance(90) ? 5 + Int(2) : Int(16);
    const uint8_t protos[] = {6, 17, 1, 132, 47};
    p.push_back(static_cast<uint8_t>((Chance(95) ? 0x40 : 0x60) | ihl));
    p.push_back(0), Put16(&p, 0), Put16(&p, 0x1234);
    Put16(&p, static_cast<uint16_t>(Chance(15) ? (Chance(50) ? 0x2000 : 0) | (1 + Int(100)) : 0));
    p.push_back(64), p.push_back(protos[Int(5)]), Put16(&p, 0);
    Addr(&p, false), Addr(&p, false);
    while (p.size() < static_cast<size_t>(ihl) * 4) p.push_back(1);
    Ports(&p, Int(12));
    return p;
  }
  std::vector<uint8_t> Ipv6() {
    std::vector<uint8_t> p = {0x60, 0, 0, 0};
    const uint8_t nhs[] = {6, 17, 58, 44, 44, 0, 132};
    uint8_t nh = nhs[Int(7)];
    Put16(&p, 0), p.push_back(nh), p.push_back(64);
    Addr(&p, true), Addr(&p, true);
    if (nh == 44 || nh == 0) {
      const uint8_t inner[] = {6, 17, 58};
      p.push_back(inner[Int(3)]);
      for (int i = 0; i < 7; ++i) p.push_back(static_cast<uint8_t>(Int(3)));
    }
    Ports(&p, Int(12));
    return p;
  }
  std::vector<uint8_t> Arp() {
    std::vector<uint8_t> p = {0, 1, 8, 0, 6, 4, 0, static_cast<uint8_t>(1 + Int(2))};
    Mac(&p), Addr(&p, false), Mac(&p), Addr(&p, false);
    return p;
  }

  std::vector<uint8_t> Network(uint16_t* ethertype, uint16_t link_type) {
    int kind = link_type == 228 ? 0 : link_type == 229 ? 1 : Int(link_type == 101 ? 2 : 6);
    switch (kind) {
      case 0:
        *ethertype = 0x0800;
        return Ipv4();
      case 1:
        *ethertype = 0x86dd;
        return Ipv6();
      case 2:
        *ethertype = 0x0806;
        return Arp();
      case 3:
        *ethertype = 0x8035;
        return Arp();
      case 4:
        *ethertype = static_cast<uint16_t>(40 + Int(1400));
        return Ipv4();  // 802.3 length
      default:
        *ethertype = Chance(50) ? 0x0800 : 0x86dd;
        return Chance(50) ? Ipv6() : Ipv4();
    }
  }

  std::string Primitive(bool ethernet) {
    const char* dirs[] = {"", "src ", "dst "};
    std::string dir = dirs[Int(3)];
    switch (Int(ethernet ? 12 : 10)) {
      case 0: {
        const char* protos[] = {"", "ip ", "arp ", "rarp "};
        return protos[Int(4)] + dir + "host " + Pick(kIpv4);
      }
      case 1:
        return dir + (dir.empty() ? "host " : "") + Pick(kIpv4);
      case 2:
        return (Chance(30) ? "ip " : "") + dir + "net " + Pick(kIpv4Nets);
      case 3:
        return (Chance(30) ? "ip6 " : "") + dir + "host " + Pick(kIpv6);
      case 4:
        return dir + "net " + Pick(kIpv6Nets);
      case 5: {
        const char* protos[] = {"", "tcp ", "udp "};
        return protos[Int(3)] + dir + "port " + std::to_string(Pick(kPorts));
      }
      case 6:
        return dir + "portrange " + std::to_string(Pick(kPorts)) + "-" + std::to_string(Pick(kPorts));
      case 7: {
        const char* protos[] = {"tcp", "udp", "icmp", "ip", "ip6", "arp", "rarp"};
        return protos[Int(7)];
      }
      case 8:
        return "net 10.0.0.0 mask 255.255.0.0";
      case 9: {
        const char* other[] = {"ip proto 47", "tcp[13] & 2 != 0", "less 100",   "icmp6", "ip6 proto 58",
                               "port 0x50",   "ip multicast",     "greater 60", "sctp"};
        return other[Int(9)];
      }
      default:
        return "ether " + dir + (Chance(50) ? "host " : (dir.empty() ? "host " : "")) + Pick(kMacs);
    }
  }

  // A bare value after and/or, of the same kind as the primitive before it.
  std::string Continuation(const std::string& left) {
    std::string neg = Chance(20) ? "not " : "";
    if (left.find("port ") != std::string::npos) return neg + std::to_string(Pick(kPorts));
    if (left.find("ether") != std::string::npos) return neg + Pick(kMacs);
    if (left.find("net ") != std::string::npos)
      return neg + (left.find(':') != std::string::npos ? Pick(kIpv6Nets) : Pick(kIpv4Nets));
    if (left.find(':') != std::string::npos) return neg + Pick(kIpv6);
    return neg + Pick(kIpv4);
  }

  std::mt19937 rng_;
};

}  // namespace pcapml::testing_packets
