// A BPF expression compiled with libpcap, once per link type it meets, and
// run with pcap_offline_filter: libpcap's own semantics are the contract.
// Compiled without libpcap's optimizer (as `tcpdump -O`): the optimizer has
// known bugs that make a program disagree with its expression (e.g.
// libpcap#945; on 1.10.3 "ether host X and host A or ip host A or B"
// rejects a frame from B with ether host X), and it refuses filters that
// match nothing.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pcapml {

// LINKTYPE_* (files) to DLT_* (libpcap's compiler); equal for most types.
int LinkTypeToDlt(uint16_t link_type);

class BpfFilter {
 public:
  explicit BpfFilter(std::string expression) : expression_(std::move(expression)) {}
  ~BpfFilter();
  BpfFilter(const BpfFilter&) = delete;
  BpfFilter& operator=(const BpfFilter&) = delete;

  // Compiles for link_type (cached). On failure *err holds libpcap's reason.
  bool Prepare(uint16_t link_type, std::string* err);

  bool prepared(uint16_t link_type) const { return Find(link_type) != nullptr; }

  // False if not prepared for link_type.
  bool Matches(uint16_t link_type, const uint8_t* data, uint32_t caplen, uint32_t orig_len) const {
    const Program* p = Find(link_type);
    if (!p) return false;
    pcap_pkthdr h{};
    h.caplen = caplen;
    h.len = orig_len;
    return pcap_offline_filter(&p->program, &h, data) != 0;
  }

  const std::string& expression() const { return expression_; }

 private:
  struct Program {
    uint16_t link_type;
    bpf_program program;
  };
  const Program* Find(uint16_t link_type) const {
    for (const Program& p : programs_)
      if (p.link_type == link_type) return &p;
    return nullptr;
  }

  std::string expression_;
  std::vector<Program> programs_;
};

}  // namespace pcapml
