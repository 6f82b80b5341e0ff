#include "pcapio/pcap_writer.h"

#include <cstring>

namespace pcapml {

void PcapWriter::FileHeader(uint16_t link_type, uint32_t snaplen, uint32_t out[6]) {
  const uint32_t h[6] = {0xa1b23c4d, 0x00040002u, 0, 0, snaplen ? snaplen : 262144u, link_type};
  memcpy(out, h, sizeof h);
}

void PcapWriter::RecordHeader(int64_t ts_ns, uint32_t caplen, uint32_t orig_len, uint32_t out[4]) {
  // Classic pcap cannot hold times before 1970; clamp rather than wrap.
  uint64_t ts = ts_ns < 0 ? 0 : static_cast<uint64_t>(ts_ns);
  out[0] = static_cast<uint32_t>(ts / 1000000000u);
  out[1] = static_cast<uint32_t>(ts % 1000000000u);
  out[2] = caplen;
  out[3] = orig_len;
}

void PcapWriter::WriteHeader(uint16_t link_type, uint32_t snaplen) {
  uint32_t h[6];
  FileHeader(link_type, snaplen, h);
  out_->Append(h, sizeof h);
}

void PcapWriter::WritePacket(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len) {
  uint32_t h[4];
  RecordHeader(ts_ns, caplen, orig_len, h);
  out_->Append(h, sizeof h);
  out_->Append(data, caplen);
}

}  // namespace pcapml
