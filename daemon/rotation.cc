#include "daemon/rotation.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "daemon/disk_budget.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

constexpr int64_t kNs = 1000000000;
constexpr int64_t kRetryNs = kNs;  // after a failed write or open
// A failure episode ends with a write that works this long after the first
// one that did, with no failure between: a nearly full disk often takes a
// small write between failures.
constexpr int64_t kWorkingNs = 2 * kNs;

}  // namespace

RotatingSink::RotatingSink(OutputConfig config, std::string sensor_id, CompletedFn on_complete)
    : config_(std::move(config)), sensor_id_(std::move(sensor_id)), on_complete_(std::move(on_complete)) {
  for (const CompletedFile& f : ListCompletedFiles(config_.directory, config_.prefix)) stats_.bytes_kept += f.bytes;
}

RotatingSink::~RotatingSink() {
  std::string err;
  Close(&err);
}

uint32_t RotatingSink::Interface(const InterfaceKey& key) {
  for (size_t i = 0; i < interfaces_.size(); ++i)
    if (interfaces_[i] == key) return static_cast<uint32_t>(i);
  interfaces_.push_back(key);
  file_iface_.push_back(-1);
  return static_cast<uint32_t>(interfaces_.size() - 1);
}

std::string RotatingSink::FileName(int64_t start_ns) {
  time_t secs = static_cast<time_t>(start_ns / kNs);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  for (;;) {
    char name[512];
    snprintf(name, sizeof name, "%s-%s-%06llu.pcapng", config_.prefix.c_str(), stamp,
             static_cast<unsigned long long>(++seq_));
    std::string path = (fs::path(config_.directory) / name).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) return path;
  }
}

// With rotation by time, the file of the period ts_ns falls in (or, for a
// packet of a period already completed, of the next one), named after the
// period's start; otherwise named after the wall clock.
bool RotatingSink::OpenFile(int64_t ts_ns, int64_t now_ns) {
  int64_t start_ns = now_ns;
  if (config_.rotate_seconds > 0) {
    int64_t period = config_.rotate_seconds * kNs;
    int64_t at = std::max(ts_ns, completed_until_ns_);
    start_ns = at / period * period - (at % period < 0 ? period : 0);  // floor, before 1970 too
  }
  auto file = std::make_unique<OutputFile>();
  std::string err;
  if (!file->Open(FileName(start_ns), &err, 1u << 20)) {
    SetError(err, now_ns);
    retry_at_ns_ = now_ns + kRetryNs;
    return false;
  }
  file_ = std::move(file);
  writer_ = std::make_unique<PcapngWriter>(file_.get());
  writer_->WriteSectionHeader({}, sensor_id_.empty() ? "" : "sensor " + sensor_id_);
  std::fill(file_iface_.begin(), file_iface_.end(), -1);
  idb_offset_.clear();
  file_packets_ = 0;
  file_late_ = 0;
  if (config_.rotate_seconds > 0) {
    period_ns_ = start_ns;
    rotate_at_ns_ = start_ns + config_.rotate_seconds * kNs;
  }
  return true;
}

bool RotatingSink::NeedsRotation(int64_t packet_ns) const {
  return (config_.rotate_bytes && file_->bytes_written() >= config_.rotate_bytes) ||
         (config_.rotate_packets && file_packets_ >= config_.rotate_packets) ||
         (config_.rotate_seconds && packet_ns >= rotate_at_ns_);
}

void RotatingSink::Flush(int64_t now_ns) {
  if (!file_ || file_->buffered() == 0) return;
  std::string err;
  if (file_->Flush(&err)) {
    pending_packets_ = 0;
    Worked(now_ns);
    return;
  }
  // The buffer is lost, the file was cut back to its last whole block.
  SetError(err, now_ns);
  stats_.dropped_output += pending_packets_;
  stats_.packets_written -= pending_packets_;
  file_packets_ -= pending_packets_;
  pending_packets_ = 0;
  file_->ClearError();
  ForgetLostBlocks(now_ns);
  retry_at_ns_ = now_ns + kRetryNs;
}

// Headers in the lost buffer must be written again: a file whose section
// header was lost starts over; IDBs that were lost are written anew.
void RotatingSink::ForgetLostBlocks(int64_t now_ns) {
  uint64_t durable = file_->durable_bytes();
  if (durable == 0) {
    file_->Abandon();
    file_.reset();
    writer_.reset();
    --seq_;
    return;
  }
  for (size_t id = 0; id < idb_offset_.size(); ++id) {
    if (idb_offset_[id] < durable) continue;
    writer_->ForgetInterfacesFrom(static_cast<uint32_t>(id));
    idb_offset_.resize(id);
    for (int64_t& f : file_iface_)
      if (f >= static_cast<int64_t>(id)) f = -1;
    break;
  }
}

void RotatingSink::Complete(int64_t now_ns) {
  if (!file_) return;
  if (file_late_) {
    char buf[160];
    snprintf(buf, sizeof buf,
             " has %llu packet(s) stamped before its period began: ", static_cast<unsigned long long>(file_late_));
    log_lines_.push_back("output: " + file_->path() + buf +
                         "they came after the file of their period was completed (a source behind the others, "
                         "or more than 0.3 s late from the kernel)");
  }
  std::string err;
  bool ok = file_->Commit(&err, config_.fsync);
  std::string path = file_->path();
  writer_.reset();
  pending_packets_ = 0;
  if (!ok) {
    SetError(err, now_ns);
    if (std::string temp = file_->ReleaseTemp(); !temp.empty()) {
      // Complete but not renamed (directory read-only or gone): keep it and
      // retry the rename; nothing is lost.
      unrenamed_.push_back({temp, path, file_packets_});
    } else {
      // Could not finish it (disk full at the last flush): its packets are
      // lost and the partial file is removed.
      stats_.dropped_output += file_packets_;
      stats_.packets_written -= file_packets_;
    }
    file_.reset();
    return;
  }
  file_.reset();
  Worked(now_ns);
  Completed(path);
}

void RotatingSink::Completed(const std::string& path) {
  ++stats_.files_completed;
  PruneOldFiles(path);
  if (on_complete_) on_complete_(path);
}

void RotatingSink::RetryRenames(int64_t now_ns) {
  std::error_code ec;
  for (auto it = unrenamed_.begin(); it != unrenamed_.end();) {
    fs::rename(it->temp, it->path, ec);
    if (ec && fs::exists(it->temp)) return;  // still not allowed: later
    if (ec) {                                // the file went with its directory: its packets are lost
      stats_.dropped_output += it->packets;
      stats_.packets_written -= it->packets;
    } else {
      Worked(now_ns);
      Completed(it->path);
    }
    it = unrenamed_.erase(it);
  }
}

void RotatingSink::Write(uint32_t interface, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len,
                         std::string_view comment, int64_t now_ns) {
  if (retry_at_ns_ && now_ns < retry_at_ns_) {
    ++stats_.dropped_output;
    return;
  }
  retry_at_ns_ = 0;
  if (file_ && NeedsRotation(ts_ns)) Complete(now_ns);
  if (!file_ && !OpenFile(ts_ns, now_ns)) {
    ++stats_.dropped_output;
    return;
  }
  // Flush before the buffer would spill by itself, so a failure loses
  // exactly the packets counted in pending_packets_.
  int64_t& id = file_iface_[interface];
  size_t need = 64 + caplen + comment.size();
  if (id < 0) need += 64 + interfaces_[interface].source.size() + interfaces_[interface].filter.size();
  if (file_->buffered() + need > file_->capacity()) {
    Flush(now_ns);
    if (retry_at_ns_) {
      ++stats_.dropped_output;
      return;
    }
  }
  if (!file_ && !OpenFile(ts_ns, now_ns)) {  // the flush lost the section header
    ++stats_.dropped_output;
    return;
  }
  if (id < 0) {
    idb_offset_.push_back(file_->bytes_written());
    id = writer_->Interface(interfaces_[interface]);
  }
  uint64_t before = file_->bytes_written();
  writer_->WritePacket(static_cast<uint32_t>(id), ts_ns, data, caplen, orig_len, comment);
  stats_.bytes_written += file_->bytes_written() - before;
  ++stats_.packets_written;
  ++file_packets_;
  ++pending_packets_;
  if (config_.rotate_seconds && ts_ns < period_ns_) ++file_late_, ++stats_.late_packets;
}

void RotatingSink::Tick(int64_t now_ns, int64_t packet_clock_ns) {
  if (!unrenamed_.empty()) RetryRenames(now_ns);
  if (!file_) return;
  if (TickRotates(packet_clock_ns)) {
    completed_until_ns_ = rotate_at_ns_;
    Complete(now_ns);
    return;
  }
  Flush(now_ns);
}

bool RotatingSink::Close(std::string* err) {
  bool lost = false;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now_ns = static_cast<int64_t>(ts.tv_sec) * kNs + ts.tv_nsec;
  if (file_) {
    uint64_t completed = stats_.files_completed;
    size_t unrenamed = unrenamed_.size();
    Complete(now_ns);
    lost = stats_.files_completed == completed && unrenamed_.size() == unrenamed;
  }
  RetryRenames(now_ns);
  if (failing_ && working_since_ns_) EndFailure();
  if (!unrenamed_.empty()) {
    *err = last_error_ + "; " + std::to_string(unrenamed_.size()) + " complete file(s) left as " +
           unrenamed_.front().temp + (unrenamed_.size() > 1 ? " and others" : "");
    return false;
  }
  if (lost) *err = last_error_;
  return !lost;
}

// The first failure of an episode is logged; the others only retry.
void RotatingSink::SetError(const std::string& err, int64_t now_ns) {
  last_error_ = err;
  working_since_ns_ = 0;
  if (failing_) return;
  failing_ = true;
  failing_since_ns_ = now_ns;
  dropped_before_ = stats_.dropped_output;
  log_lines_.push_back("output: " + err + "; dropping packets until writing works again (retried every second)");
}

// Data reached the disk (or a file its final name).
void RotatingSink::Worked(int64_t now_ns) {
  if (!failing_) return;
  if (!working_since_ns_)
    working_since_ns_ = now_ns;
  else if (now_ns - working_since_ns_ >= kWorkingNs)
    EndFailure();
}

void RotatingSink::EndFailure() {
  failing_ = false;
  char buf[200];
  snprintf(buf, sizeof buf, "output: writing again; %llu packets dropped in the %.1f s it failed",
           static_cast<unsigned long long>(stats_.dropped_output - dropped_before_),
           static_cast<double>(working_since_ns_ - failing_since_ns_) / kNs);
  log_lines_.push_back(buf);
}

// Only completed files are listed (daemon/disk_budget.h), never the one
// being written. The room kept for the next file is rotate_bytes, or without
// it the size of the file just completed. That file stays even when its name
// sorts before others (a replayed capture's time rotation names files after
// its recorded periods).
void RotatingSink::PruneOldFiles(const std::string& completed) {
  std::vector<CompletedFile> done = ListCompletedFiles(config_.directory, config_.prefix);
  std::error_code ec;
  uint64_t reserve = config_.rotate_bytes;
  if (!reserve && config_.max_bytes) reserve = fs::file_size(completed, ec);
  size_t remove = FilesToRemove(done, config_.max_files, config_.max_bytes, ec ? 0 : reserve);
  stats_.bytes_kept = 0;
  for (size_t i = 0; i < done.size(); ++i) {
    if (i < remove && fs::path(done[i].path).filename() != fs::path(completed).filename() &&
        fs::remove(done[i].path, ec))
      ++stats_.files_removed;
    else
      stats_.bytes_kept += done[i].bytes;
  }
}

}  // namespace pcapml
