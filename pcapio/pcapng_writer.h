// pcapng writer (docs/format.md: The label): SHB with shb_userappl, one IDB per (source,
// link type, snaplen) written when first needed, EPBs with if_tsresol=9
// timestamps and an optional opt_comment. Writes into an OutputFile's buffer:
// no allocation or system call per packet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pcapio/output_file.h"

namespace pcapml {

struct InterfaceKey {
  std::string source;  // if_name: interface or input file name
  uint16_t link_type = 0;
  uint32_t snaplen = 0;
  std::string filter;  // if_filter, empty if none
  bool operator==(const InterfaceKey&) const = default;
};

class PcapngWriter {
 public:
  explicit PcapngWriter(OutputFile* out) : out_(out) {}

  // Starts a section. `hardware` and `comment` are written when not empty.
  // `grouped` promises that each sample's packets are contiguous in the
  // section (directory mode, sort): kGroupedComment tells readers such as the
  // Python sampler that one pass suffices.
  void WriteSectionHeader(std::string_view hardware = {}, std::string_view comment = {}, bool grouped = false);
  static constexpr std::string_view kGroupedComment = "pcapml: grouped by sample";

  // Returns the interface id for key, writing its IDB the first time.
  uint32_t Interface(const InterfaceKey& key) { return Interface(key, {}); }
  // The same with an if_description (written when not empty; interfaces that
  // differ only in it get IDBs of their own).
  uint32_t Interface(const InterfaceKey& key, std::string_view description);

  void WritePacket(uint32_t interface, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                   std::string_view comment);
  // The same with the EPB's options given whole: `options` is a well-formed
  // option list in this machine's byte order, without opt_endofopt (added
  // here when there are options).
  void WritePacketOptions(uint32_t interface, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                          std::string_view options);

  size_t interface_count() const { return interfaces_.size(); }
  // Forgets interfaces from `id` on (their IDBs were lost): the next
  // Interface() call for them writes a new IDB.
  void ForgetInterfacesFrom(uint32_t id) {
    if (id < interfaces_.size()) interfaces_.resize(id), descriptions_.resize(id);
    last_ = -1;
  }

 private:
  OutputFile* out_;
  std::vector<InterfaceKey> interfaces_;
  std::vector<std::string> descriptions_;  // if_description of each, parallel to interfaces_
  // Cache of the last lookup: most packets repeat their predecessor's interface.
  int last_ = -1;
};

}  // namespace pcapml
