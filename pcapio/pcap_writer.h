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

  // The 24-byte file header and the 16-byte record header, for writers that
  // buffer on their own (split writes many files through OutputFileSet).
  static void FileHeader(uint16_t link_type, uint32_t snaplen, uint32_t out[6]);
  static void RecordHeader(int64_t ts_ns, uint32_t caplen, uint32_t orig_len, uint32_t out[4]);

 private:
  OutputFile* out_;
};

}  // namespace pcapml
