// The daemon's sink: labeled pcapng files rotated by size, time and packet
// count. Rotation by time runs on packet time: a file holds the packets
// stamped in one period [k*P, (k+1)*P) of rotate_seconds P (multiples of it
// since the epoch, UTC) and is named after the period's start, however far
// behind the kernel's ring the daemon reads. Each file is written as
// "<final>.partial" and renamed when complete, so every file under a final
// name is whole. A full disk drops and counts packets, and writing resumes
// when space returns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config.h"
#include "pcapio/output_file.h"
#include "pcapio/pcapng_writer.h"

namespace pcapml {

struct SinkStats {
  uint64_t packets_written = 0;
  uint64_t bytes_written = 0;  // file bytes, blocks included
  uint64_t files_completed = 0;
  uint64_t dropped_output = 0;  // packets lost to a full disk or a missing directory
  uint64_t bytes_kept = 0;      // completed files in the output directory, after the last pruning
  uint64_t files_removed = 0;   // by max_files and max_bytes
  uint64_t late_packets = 0;    // stamped before the period of the file they were written to
};

class RotatingSink {
 public:
  using CompletedFn = std::function<void(const std::string& path)>;

  RotatingSink(OutputConfig config, std::string sensor_id, CompletedFn on_complete);
  ~RotatingSink();

  // Stable interface id for a source interface; IDBs are written per file.
  uint32_t Interface(const InterfaceKey& key);

  // Writes one packet stamped ts_ns; a packet past the current file's period
  // completes it. now_ns is the wall clock (for retries after failures).
  void Write(uint32_t interface, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
             std::string_view comment, int64_t now_ns);

  // True when the next Write of a packet stamped packet_ns completes the
  // current file (what is held in front of the sink is released into it first).
  bool RotationDue(int64_t packet_ns) const { return file_ && NeedsRotation(packet_ns); }
  // True when the current file is full by size or packet count, whatever the time.
  bool FullDue() const { return RotationDue(INT64_MIN); }
  // True when Tick(_, packet_clock_ns) completes the current file.
  bool TickRotates(int64_t packet_clock_ns) const {
    return file_ && config_.rotate_seconds && packet_clock_ns >= rotate_at_ns_ + kSettleNs;
  }

  // Periodic: flushes buffered packets, retries renames; on a quiet link it
  // completes the file once packet_clock_ns (the newest packet's time moved
  // on with the wall clock since it was read) is kSettleNs past the period:
  // by then every packet stamped inside it has left the kernel's ring.
  void Tick(int64_t now_ns, int64_t packet_clock_ns);
  // How long after it was stamped a packet may still come out of the
  // kernel's ring: a partly filled block is handed over when the 100 ms
  // pcap timeout has run out twice at most.
  static constexpr int64_t kSettleNs = 300000000;

  // Completes the current file (on shutdown). False with *err on failure.
  bool Close(std::string* err);

  const SinkStats& stats() const { return stats_; }
  const std::string& last_error() const { return last_error_; }
  // Log lines since the last call: one when writing starts failing and one
  // when the failure episode ends (writes have worked for 2 s without a new
  // failure, or the last file was completed), with the packets dropped meanwhile.
  std::vector<std::string> TakeLogLines() { return std::exchange(log_lines_, {}); }
  std::string current_path() const { return file_ ? file_->path() : ""; }

 private:
  bool OpenFile(int64_t ts_ns, int64_t now_ns);
  void Complete(int64_t now_ns);
  void Flush(int64_t now_ns);
  bool NeedsRotation(int64_t packet_ns) const;
  void PruneOldFiles(const std::string& completed);
  void Completed(const std::string& path);
  void RetryRenames(int64_t now_ns);
  void ForgetLostBlocks(int64_t now_ns);
  std::string FileName(int64_t start_ns);

  OutputConfig config_;
  std::string sensor_id_;
  CompletedFn on_complete_;
  std::vector<InterfaceKey> interfaces_;
  std::unique_ptr<OutputFile> file_;
  std::unique_ptr<PcapngWriter> writer_;
  std::vector<int64_t> file_iface_;   // stable id -> id in the current file, -1 = not yet
  std::vector<uint64_t> idb_offset_;  // id in the current file -> where its IDB starts
  // Complete files whose rename failed (directory read-only or gone): retried.
  struct Unrenamed {
    std::string temp, path;
    uint64_t packets;
  };
  std::vector<Unrenamed> unrenamed_;
  uint64_t file_packets_ = 0;
  uint64_t pending_packets_ = 0;            // packets in the buffer, lost if its flush fails
  int64_t period_ns_ = 0;                   // start of the current file's period (time rotation)
  int64_t rotate_at_ns_ = 0;                // and its end
  uint64_t file_late_ = 0;                  // packets of the current file stamped before period_ns_
  int64_t completed_until_ns_ = INT64_MIN;  // end of the last period Tick completed
  int64_t retry_at_ns_ = 0;                 // after an output failure, when to try again
  uint64_t seq_ = 0;
  SinkStats stats_;
  std::string last_error_;
  std::vector<std::string> log_lines_;
  bool failing_ = false;         // in a failure episode
  uint64_t dropped_before_ = 0;  // stats_.dropped_output when it began
  int64_t failing_since_ns_ = 0;
  int64_t working_since_ns_ = 0;  // in an episode: writing works again since (0: not yet)
  void SetError(const std::string& err, int64_t now_ns);
  void Worked(int64_t now_ns);
  void EndFailure();
};

}  // namespace pcapml
