#include "plugins/process/bpf_owners.h"

#include <bpf/libbpf.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "owners.skel.h"  // generated at build time: bpftool gen skeleton owners.bpf.o

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace pcapml::process {
namespace {

// libbpf's log while loading: kept, not printed; its last line explains a
// refused program.
std::string* g_log = nullptr;

int KeepLog(enum libbpf_print_level level, const char* format, va_list args) {
  if (!g_log || level == LIBBPF_DEBUG) return 0;
  char line[512];
  vsnprintf(line, sizeof line, format, args);
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (!text.empty()) *g_log = text;
  return 0;
}

std::string Errno(int e) { return strerror(e > 0 ? e : -e); }

bool Privilege(int e) { return e == EPERM || e == -EPERM || e == EACCES || e == -EACCES; }

}  // namespace

BpfOwners::~BpfOwners() {
  if (ring_) ring_buffer__free(ring_);
  if (skel_) owners__destroy(skel_);  // detaches every link
}

bool BpfOwners::Start(uint64_t netns, uint32_t ring_bytes, int cgroup_fd, Handler handler, void* ctx,
                      std::string* err) {
  handler_ = handler;
  ctx_ = ctx;
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return *err = "the kernel has no BTF (/sys/kernel/btf/vmlinux: " + Errno(errno) +
                  "): the process plugin needs a kernel built with CONFIG_DEBUG_INFO_BTF",
           false;
  std::string log;
  g_log = &log;
  libbpf_print_fn_t old = libbpf_set_print(KeepLog);
  struct Restore {
    libbpf_print_fn_t old;
    ~Restore() {
      libbpf_set_print(old);
      g_log = nullptr;
    }
  } restore{old};

  skel_ = owners__open();
  if (!skel_) return *err = "cannot open the eBPF object: " + Errno(errno), false;
  skel_->rodata->target_netns = netns;
  bpf_map__set_max_entries(skel_->maps.events, ring_bytes);
  if (int e = owners__load(skel_)) {
    if (Privilege(e))
      return *err = "loading eBPF programs was refused (" + Errno(e) +
                    "): the process plugin needs CAP_BPF and CAP_PERFMON, or root",
             false;
    return *err = "the kernel refused the eBPF programs (" + Errno(e) + "): " + log, false;
  }
  struct {
    bpf_program* prog;
    bpf_link** link;
  } cgroup_hooks[] = {
      {skel_->progs.connect4, &skel_->links.connect4},     {skel_->progs.connect6, &skel_->links.connect6},
      {skel_->progs.sendmsg4, &skel_->links.sendmsg4},     {skel_->progs.sendmsg6, &skel_->links.sendmsg6},
      {skel_->progs.recvmsg4, &skel_->links.recvmsg4},     {skel_->progs.recvmsg6, &skel_->links.recvmsg6},
      {skel_->progs.post_bind4, &skel_->links.post_bind4}, {skel_->progs.post_bind6, &skel_->links.post_bind6},
      {skel_->progs.egress, &skel_->links.egress},         {skel_->progs.sock_release, &skel_->links.sock_release},
  };
  for (auto& h : cgroup_hooks) {
    *h.link = bpf_program__attach_cgroup(h.prog, cgroup_fd);
    if (!*h.link) {
      int e = errno;
      if (Privilege(e))
        return *err = std::string("attaching eBPF program '") + bpf_program__name(h.prog) +
                      "' to the cgroup hierarchy was refused (" + Errno(e) + "): it needs CAP_NET_ADMIN, or root",
               false;
      return *err = std::string("cannot attach eBPF program '") + bpf_program__name(h.prog) +
                    "' to the cgroup hierarchy: " + Errno(e) + (log.empty() ? "" : ": " + log),
             false;
    }
  }
  skel_->links.set_state = bpf_program__attach(skel_->progs.set_state);
  if (!skel_->links.set_state)
    return *err = "cannot attach to the sock:inet_sock_set_state tracepoint: " + Errno(errno) +
                  (Privilege(errno) ? " (it needs CAP_PERFMON and CAP_BPF, or root)" : ""),
           false;
  ring_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), OnEvent, this, nullptr);
  if (!ring_) return *err = "cannot map the eBPF ring buffer: " + Errno(errno), false;
  return true;
}

int BpfOwners::OnEvent(void* self, void* data, size_t size) {
  auto* me = static_cast<BpfOwners*>(self);
  if (size >= sizeof(pcapml_owner_event)) me->handler_(me->ctx_, *static_cast<const pcapml_owner_event*>(data));
  return 0;
}

void BpfOwners::Drain() {
  if (ring_) ring_buffer__consume(ring_);
}

uint64_t BpfOwners::events_lost() const {
  return skel_ && skel_->bss ? __atomic_load_n(&skel_->bss->events_lost, __ATOMIC_RELAXED) : 0;
}

uint64_t BpfOwners::events_sent() const {
  return skel_ && skel_->bss ? __atomic_load_n(&skel_->bss->events_sent, __ATOMIC_RELAXED) : 0;
}

uint64_t OwnNetnsCookie(std::string* err) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    *err = "cannot read this network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): " + Errno(errno);
    cookie = 0;
  }
  if (fd >= 0) close(fd);
  return cookie;
}

}  // namespace pcapml::process
