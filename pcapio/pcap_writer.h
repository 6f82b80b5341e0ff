// Classic pcap writer with the nanosecond magic (0xa1b23c4d), so split and
// strip keep every timestamp exact.
#pragma once

#include <cstdint>

#include "pcapio/output_file.h"

namespace pcapml {

class PcapWriter {
 public:
  explicit PcapWriter(OutputFile* out) : out_(out) {}
  void WriteHeader(uint16_t link_type, uint32_t snaplen);
  void WritePacket(int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len);

 private:
  OutputFile* out_;
};

}  // namespace pcapml
