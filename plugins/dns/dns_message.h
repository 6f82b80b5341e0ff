// The addresses a DNS response gives for the name asked (RFC 1035 §4): the
// question's name and every A and AAAA record of the answer section with
// its TTL (CNAME chains included: the records all answer the question).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pcapml::dns {

struct DnsAddress {
  uint8_t ip_version = 0;  // 4 or 6
  uint8_t addr[16] = {};
  uint32_t ttl = 0;  // seconds
};

inline constexpr size_t kMaxAddresses = 32;  // more records in one answer are skipped
inline constexpr size_t kMaxNameLength = 255;

struct DnsAnswer {
  char name_buf[kMaxNameLength + 1];
  size_t name_size = 0;
  DnsAddress addresses[kMaxAddresses];
  size_t address_count = 0;
  std::string_view name() const { return std::string_view(name_buf, name_size); }
};

enum class DnsStatus {
  kAnswer,     // *out holds the question and its addresses (maybe none)
  kIgnored,    // a query, an error response, or not a standard query
  kMalformed,  // lengths or names that do not add up
};

DnsStatus ParseDnsResponse(const uint8_t* msg, size_t size, DnsAnswer* out);

}  // namespace pcapml::dns
