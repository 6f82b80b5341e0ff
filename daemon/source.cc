#include "daemon/source.h"

#include <linux/filter.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace pcapml {
namespace {

constexpr int64_t kReopenNs = 1000000000;
// After a stop, the kernel hands over its last, partly filled ring block
// when the block's timeout (the 100 ms pcap timeout) has run out twice at
// most; past that, an empty read means the ring is empty.
constexpr int64_t kSettleNs = 300000000;

}  // namespace

std::unique_ptr<Source> MakeSource(const SourceConfig& config) {
  if (!config.interface.empty()) return std::make_unique<LiveSource>(config);
  return std::make_unique<FileSource>(config);
}

LiveSource::~LiveSource() { Close(); }

void LiveSource::Close() {
  if (pcap_) pcap_close(pcap_);
  pcap_ = nullptr;
  fd_ = -1;
}

bool LiveSource::Open(std::string* err) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t* p = pcap_create(config_.interface.c_str(), errbuf);
  auto fail = [&](const std::string& why) {
    *err = "interface " + config_.interface + ": " + why;
    if (p) pcap_close(p);
    return false;
  };
  if (!p) return fail(errbuf);
  pcap_set_snaplen(p, static_cast<int>(config_.snaplen));
  pcap_set_promisc(p, config_.promisc ? 1 : 0);
  pcap_set_timeout(p, 100);
  pcap_set_buffer_size(p, static_cast<int>(std::min<uint64_t>(config_.buffer_bytes, INT32_MAX)));
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
  int rc = pcap_activate(p);
  if (rc < 0)
    return fail(pcap_statustostr(rc) + std::string(rc == PCAP_ERROR ? std::string(": ") + pcap_geterr(p) : ""));
  // libpcap drops some packets in userland that the kernel counted as taken:
  // on a loopback device, each outgoing copy (it is also seen incoming); on a
  // cooked capture (the "any" device), those of its first ring block that a
  // capture filter rejects. There, the count of what the ring holds is not exact.
  ifreq ifr{};
  strncpy(ifr.ifr_name, config_.interface.c_str(), IFNAMSIZ - 1);
  bool loopback = ioctl(pcap_get_selectable_fd(p), SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK);
  int dlt = pcap_datalink(p);
  exact_count_ = !loopback && dlt != DLT_LINUX_SLL && dlt != DLT_LINUX_SLL2;
  std::string why;
  if (!config_.filter.empty() && !SetFilter(p, &why)) return fail(why);
  if (pcap_setnonblock(p, 1, errbuf) != 0) return fail(errbuf);
  pcap_ = p;
  fd_ = pcap_get_selectable_fd(p);
  link_type_ = static_cast<uint16_t>(dlt == DLT_RAW ? 101 : dlt);  // DLT to LINKTYPE
  seen_drop_ = seen_ifdrop_ = 0;
  base_received_ = stats_.received;
  base_skipped_ = skipped_;
  error_.clear();
  return true;
}

// The capture filter goes into the kernel. Through pcap_setfilter, libpcap
// would also run it in userland over the ring's first block (for packets
// the kernel took before the filter was in), and there filters that use the
// kernel's extensions (inbound, outbound, ifindex) reject every packet: a
// whole block lost without a count (issue 19: 1,638 packets of 300,000
// with `inbound`). So the daemon attaches the program itself and skips the
// packets stamped before it was in. Cooked captures (the "any" device)
// need libpcap's offset fix-ups: they keep pcap_setfilter.
bool LiveSource::SetFilter(pcap_t* p, std::string* why) {
  bpf_program prog;
  if (pcap_compile(p, &prog, config_.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return *why = "invalid capture filter '" + config_.filter + "': " + pcap_geterr(p), false;
  int dlt = pcap_datalink(p);
  bool ok;
  if (dlt != DLT_LINUX_SLL && dlt != DLT_LINUX_SLL2) {
    static_assert(sizeof(sock_filter) == sizeof(bpf_insn));
    sock_fprog kernel{static_cast<unsigned short>(prog.bf_len), reinterpret_cast<sock_filter*>(prog.bf_insns)};
    ok = prog.bf_len <= USHRT_MAX &&
         setsockopt(pcap_get_selectable_fd(p), SOL_SOCKET, SO_ATTACH_FILTER, &kernel, sizeof kernel) == 0;
    if (!ok) *why = "cannot set capture filter: " + std::string(prog.bf_len > USHRT_MAX ? "too long" : strerror(errno));
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unfiltered_before_ns_ = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  } else {
    ok = pcap_setfilter(p, &prog) == 0;
    if (!ok) *why = std::string("cannot set capture filter: ") + pcap_geterr(p);
  }
  pcap_freecode(&prog);
  return ok;
}

std::vector<InterfaceKey> LiveSource::Interfaces() const {
  return {{config_.interface, link_type_, config_.snaplen, config_.filter}};
}

int LiveSource::Poll(int max, const PacketFn& fn, int64_t now_ns) {
  if (!pcap_) {
    if (stop_ns_) {  // lost before the stop: nothing to drain
      drained_ = true;
      return 0;
    }
    if (now_ns < reopen_at_ns_) return 0;
    std::string err;
    if (!Open(&err)) {
      error_ = err;
      reopen_at_ns_ = now_ns + kReopenNs;
      return 0;
    }
    ++stats_.reopened;
  }
  fn_ = &fn;
  auto cb = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<LiveSource*>(user);
    SourcePacket p{
        static_cast<int64_t>(h->ts.tv_sec) * 1000000000 + h->ts.tv_usec, bytes, h->caplen, h->len, self->link_type_, 0};
    if (p.ts_ns < self->unfiltered_before_ns_) {  // taken before the capture filter was in
      ++self->skipped_;
      return;
    }
    ++self->stats_.received;
    (*self->fn_)(p);
  };
  // Packets stamped before the filter are in the ring's first block; after
  // a second, a clock stepped back must not make packets look that old.
  if (unfiltered_before_ns_ && now_ns > unfiltered_before_ns_ + 1000000000) unfiltered_before_ns_ = 0;
  int n = pcap_dispatch(pcap_, max, cb, reinterpret_cast<u_char*>(this));
  if (n < 0) {
    Lost(pcap_geterr(pcap_), now_ns);
    return 0;
  }
  // Drained: nothing ready, and nothing the kernel took is still in its
  // ring (or, when the counts cannot tell, its last block is surely out).
  if (stop_ns_ && n == 0 && ((exact_count_ && InKernel() == 0) || now_ns - stop_ns_ >= kSettleNs)) drained_ = true;
  return n;
}

// Stops capture but keeps the ring: a filter that takes nothing replaces
// the capture filter in the kernel, so what the ring holds is what was
// captured before the stop, and it is still read.
void LiveSource::StopCapture(int64_t now_ns) {
  stop_ns_ = now_ns;
  if (!pcap_) return;
  sock_filter none = BPF_STMT(BPF_RET | BPF_K, 0);
  sock_fprog prog{1, &none};
  if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
    error_ = "interface " + config_.interface + ": cannot stop capturing (" + strerror(errno) +
             "); reading on until the stop deadline";
}

// Packets the kernel put in the ring that were not read yet (pcap_stats:
// ps_recv counts every packet the capture filter passed, ps_drop those
// with no room in the ring). Its counts are 32-bit and wrap: the
// difference is taken modulo 2^32, and a "negative" one is 0.
uint64_t LiveSource::InKernel() {
  pcap_stat s{};
  if (!pcap_ || pcap_stats(pcap_, &s) != 0) return 0;
  uint64_t read = stats_.received - base_received_ + skipped_ - base_skipped_;
  uint32_t held = static_cast<uint32_t>(s.ps_recv - s.ps_drop - static_cast<uint32_t>(read));
  return held < (1u << 31) ? held : 0;
}

void LiveSource::CountUnread() {
  if (exact_count_) stats_.unread += InKernel();
  UpdateStats();
}

// The interface went down or away (or the socket failed): close, and try
// again every second; each re-open is counted as a gap.
void LiveSource::Lost(const std::string& why, int64_t now_ns) {
  error_ = "interface " + config_.interface + ": " + why + "; re-opening it every second";
  UpdateStats();
  Close();
  reopen_at_ns_ = now_ns + kReopenNs;
}

void LiveSource::OnPollError(int64_t now_ns) {
  if (!pcap_) return;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  Lost(err ? strerror(err) : "poll error", now_ns);
}

void LiveSource::UpdateStats() {
  pcap_stat s{};
  if (pcap_ && pcap_stats(pcap_, &s) == 0) {
    AddCounterGrowth(&stats_.kernel_drops, &seen_drop_, s.ps_drop);
    AddCounterGrowth(&stats_.iface_drops, &seen_ifdrop_, s.ps_ifdrop);
  }
}

bool FileSource::Open(std::string* err) {
  if (!reader_.Open(config_.file, err)) return false;
  return true;
}

std::vector<InterfaceKey> FileSource::Interfaces() const {
  std::vector<InterfaceKey> out;
  for (const Interface& i : reader_.interfaces())
    out.push_back({i.name.empty() ? config_.file : i.name, i.link_type, i.snaplen, i.filter});
  return out;
}

int64_t FileSource::DueFor(int64_t ts_ns) const {
  return start_wall_ + static_cast<int64_t>(std::llround(static_cast<double>(ts_ns - first_ts_) / config_.speed));
}

int64_t FileSource::DueNs() const { return config_.recorded_pace && has_pending_ ? DueFor(pending_.ts_ns) : 0; }

int FileSource::Poll(int max, const PacketFn& fn, int64_t now_ns) {
  int n = 0;
  while (n < max && !done_) {
    if (!has_pending_) {
      std::string err;
      PacketReader::Status st = reader_.Next(&pending_, &err);
      if (st != PacketReader::Status::kPacket) {
        done_ = true;
        error_ = err;
        break;
      }
      has_pending_ = true;
      if (start_wall_ == 0) first_ts_ = pending_.ts_ns, start_wall_ = now_ns;
    }
    if (config_.recorded_pace && DueFor(pending_.ts_ns) > now_ns) break;
    const Interface& ifc = reader_.interfaces()[pending_.interface];
    has_pending_ = false;
    last_ts_ = pending_.ts_ns;
    last_wall_ = now_ns;
    ++stats_.received;
    fn({pending_.ts_ns, pending_.data, pending_.caplen, pending_.orig_len, ifc.link_type, pending_.interface});
    ++n;
  }
  return n;
}

std::string FileSource::Report() const {
  char buf[256];
  snprintf(buf, sizeof buf, "%s: replayed %llu packets spanning %.3f s in %.3f s%s%s", config_.file.c_str(),
           static_cast<unsigned long long>(stats_.received), (last_ts_ - first_ts_) / 1e9,
           (last_wall_ - start_wall_) / 1e9, error_.empty() ? "" : "; stopped early: ", error_.c_str());
  return buf;
}

}  // namespace pcapml
