#include "rules/bpf.h"

namespace pcapml {

int LinkTypeToDlt(uint16_t link_type) {
  switch (link_type) {
    case 101:
      return DLT_RAW;  // LINKTYPE_RAW
    case 100:
      return DLT_ATM_RFC1483;  // LINKTYPE_ATM_RFC1483
    case 106:
      return DLT_ATM_CLIP;  // LINKTYPE_ATM_CLIP
    default:
      return link_type;
  }
}

BpfFilter::~BpfFilter() {
  for (Program& p : programs_) pcap_freecode(&p.program);
}

bool BpfFilter::Prepare(uint16_t link_type, std::string* err) {
  if (Find(link_type)) return true;
  pcap_t* dead = pcap_open_dead(LinkTypeToDlt(link_type), 262144);
  if (!dead) {
    *err = "cannot open libpcap for link type " + std::to_string(link_type);
    return false;
  }
  Program p{link_type, {}};
  const int kOptimize = 0;  // see bpf.h
  if (pcap_compile(dead, &p.program, expression_.c_str(), kOptimize, PCAP_NETMASK_UNKNOWN) != 0) {
    *err = pcap_geterr(dead);
    pcap_close(dead);
    return false;
  }
  pcap_close(dead);
  programs_.push_back(p);
  return true;
}

}  // namespace pcapml
