// DNS response bytes for the dns plugin's tests, built field by field.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pcapml::testing_dns {

using Bytes = std::vector<uint8_t>;

inline void Put(Bytes* b, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

inline void Name(Bytes* b, const std::string& name) {
  size_t at = 0;
  while (at < name.size()) {
    size_t dot = name.find('.', at);
    if (dot == std::string::npos) dot = name.size();
    b->push_back(static_cast<uint8_t>(dot - at));
    b->insert(b->end(), name.begin() + static_cast<ptrdiff_t>(at), name.begin() + static_cast<ptrdiff_t>(dot));
    at = dot + 1;
  }
  b->push_back(0);
}

struct Record {
  Record(std::string a, uint32_t t = 300, std::string cname = "")
      : address(std::move(a)), ttl(t), target(std::move(cname)) {}
  std::string address;  // "1.2.3.4", "2001:db8::1"; empty: a CNAME to `target`
  uint32_t ttl;
  std::string target;
};

// A response to "qname A?" whose answers all point back to the question's
// name (compression pointer 0xc00c) except after a CNAME, which they follow.
inline Bytes Response(const std::string& qname, const std::vector<Record>& answers, uint16_t flags = 0x8180) {
  Bytes b;
  Put(&b, 0x1234, 2);
  Put(&b, flags, 2);
  Put(&b, 1, 2);
  Put(&b, static_cast<uint32_t>(answers.size()), 2);
  Put(&b, 0, 2), Put(&b, 0, 2);
  Name(&b, qname);
  Put(&b, 1, 2), Put(&b, 1, 2);
  uint16_t owner = 0xc00c;
  for (const Record& r : answers) {
    Put(&b, owner, 2);
    bool v6 = r.address.find(':') != std::string::npos;
    Put(&b, r.address.empty() ? 5 : v6 ? 28 : 1, 2);
    Put(&b, 1, 2);
    Put(&b, r.ttl, 4);
    if (r.address.empty()) {
      Bytes target;
      Name(&target, r.target);
      Put(&b, static_cast<uint32_t>(target.size()), 2);
      owner = static_cast<uint16_t>(0xc000 | b.size());
      b.insert(b.end(), target.begin(), target.end());
      continue;
    }
    uint8_t addr[16];
    inet_pton(v6 ? AF_INET6 : AF_INET, r.address.c_str(), addr);
    Put(&b, v6 ? 16 : 4, 2);
    b.insert(b.end(), addr, addr + (v6 ? 16 : 4));
  }
  return b;
}

}  // namespace pcapml::testing_dns
