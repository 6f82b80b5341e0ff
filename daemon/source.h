// The daemon's packet sources: live interfaces through libpcap and files
// replayed as fast as possible or at their recorded pace. Both hand packets
// to a callback in batches, from the pipeline thread.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "pcapio/pcapng_writer.h"
#include "pcapio/reader.h"

namespace pcapml {

struct SourcePacket {
  int64_t ts_ns;
  const uint8_t* data;
  uint32_t caplen, orig_len;
  uint16_t link_type;
  uint32_t interface;  // the source's own interface index (files may have several)
};

struct SourceStats {
  uint64_t received = 0;      // packets handed to the pipeline
  uint64_t kernel_drops = 0;  // pcap_stats ps_drop: no room in the kernel buffer
  uint64_t iface_drops = 0;   // pcap_stats ps_ifdrop: dropped by the interface/driver
  uint64_t reopened = 0;      // times a lost interface was opened again
  uint64_t unread = 0;        // taken by the kernel before a stop and never read (drain cut short)
};

using PacketFn = std::function<void(const SourcePacket&)>;

class Source {
 public:
  virtual ~Source() = default;
  virtual bool Open(std::string* err) = 0;
  // Hands up to `max` ready packets to fn; returns how many. now_ns: wall clock.
  virtual int Poll(int max, const PacketFn& fn, int64_t now_ns) = 0;
  // Whether the source has ended (a replayed file at its end, or drained after StopCapture).
  virtual bool Done() const = 0;
  // On stop: take no new packets. A file ends at once; a live interface stops
  // capturing and still hands out what the kernel holds until it is Done().
  virtual void StopCapture(int64_t now_ns) {}
  // At the end of a stop: counts what the kernel took and no one read (none
  // after a full drain) in stats().unread.
  virtual void CountUnread() {}
  // A file descriptor to wait on, or -1.
  virtual int fd() const { return -1; }
  // When the next packet is due (paced replay), or 0 if not waiting.
  virtual int64_t DueNs() const { return 0; }
  // The interfaces this source produces: name, link type, snaplen, filter.
  virtual std::vector<InterfaceKey> Interfaces() const = 0;
  virtual void UpdateStats() {}
  // poll() reported an error on fd(): the interface went down or away.
  virtual void OnPollError(int64_t now_ns) {}
  virtual std::string LastError() const { return {}; }
  // A line on how the source went, for the log at the end ("" if nothing to say).
  virtual std::string Report() const { return {}; }
  const SourceStats& stats() const { return stats_; }
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
  SourceStats stats_;
};

std::unique_ptr<Source> MakeSource(const SourceConfig& config);

// Adds to total what a 32-bit counter (pcap_stats' drop counts) grew since
// last, across its wrap at 2^32, and remembers now as last.
inline void AddCounterGrowth(uint64_t* total, uint32_t* last, uint32_t now) {
  *total += static_cast<uint32_t>(now - *last);
  *last = now;
}

// Live capture with libpcap: nanosecond timestamps, kernel capture filter,
// non-blocking, re-opened after the interface goes away.
class LiveSource : public Source {
 public:
  explicit LiveSource(const SourceConfig& c) : config_(c) { name_ = c.interface; }
  ~LiveSource() override;
  bool Open(std::string* err) override;
  int Poll(int max, const PacketFn& fn, int64_t now_ns) override;
  bool Done() const override { return drained_; }
  void StopCapture(int64_t now_ns) override;
  void CountUnread() override;
  int fd() const override { return fd_; }
  std::vector<InterfaceKey> Interfaces() const override;
  void UpdateStats() override;
  void OnPollError(int64_t now_ns) override;
  std::string LastError() const override { return error_; }

 private:
  void Close();
  void Lost(const std::string& why, int64_t now_ns);
  bool SetFilter(pcap_t* p, std::string* why);
  uint64_t InKernel();
  SourceConfig config_;
  pcap_t* pcap_ = nullptr;
  int fd_ = -1;
  uint16_t link_type_ = 1;
  int64_t reopen_at_ns_ = 0;
  std::string error_;
  // pcap_stats counts restart when the handle is re-opened, and its drop
  // counts are 32-bit: the last ones seen, to add what they grew since.
  uint32_t seen_drop_ = 0, seen_ifdrop_ = 0;
  uint64_t base_received_ = 0;
  int64_t stop_ns_ = 0;               // when StopCapture was called (0: capturing)
  int64_t unfiltered_before_ns_ = 0;  // packets stamped before the capture filter was in: skipped
  uint64_t skipped_ = 0, base_skipped_ = 0;
  bool exact_count_ = true;  // InKernel() is exact (false: libpcap drops some packets in userland)
  bool drained_ = false;
  const PacketFn* fn_ = nullptr;
};

// A capture file replayed fast or at its recorded pace (times speed).
class FileSource : public Source {
 public:
  explicit FileSource(const SourceConfig& c) : config_(c) { name_ = c.file; }
  bool Open(std::string* err) override;
  int Poll(int max, const PacketFn& fn, int64_t now_ns) override;
  bool Done() const override { return done_; }
  void StopCapture(int64_t) override { done_ = true; }
  int64_t DueNs() const override;
  std::vector<InterfaceKey> Interfaces() const override;
  std::string LastError() const override { return error_; }
  std::string Report() const override;

 private:
  int64_t DueFor(int64_t ts_ns) const;
  SourceConfig config_;
  PacketReader reader_;
  Packet pending_;
  bool has_pending_ = false;
  bool done_ = false;
  int64_t first_ts_ = 0, last_ts_ = 0, start_wall_ = 0, last_wall_ = 0;
  std::string error_;
};

}  // namespace pcapml
