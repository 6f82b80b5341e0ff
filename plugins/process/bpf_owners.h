// The process plugin's eBPF programs (owners.bpf.c) loaded and attached:
// the cgroup socket hooks on the root of the cgroup v2 hierarchy, the
// inet_sock_set_state raw tracepoint, and the ring buffer they write to.
// Loading needs CAP_BPF and CAP_PERFMON, attaching CAP_NET_ADMIN (or root);
// the daemon creates plugin instances before it drops privileges. Detached
// and unloaded when destroyed.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <string>

#include "plugins/process/owner_event.h"

struct owners;
struct ring_buffer;

namespace pcapml::process {

class BpfOwners {
 public:
  using Handler = void (*)(void* ctx, const pcapml_owner_event& event);

  BpfOwners() = default;
  ~BpfOwners();
  BpfOwners(const BpfOwners&) = delete;
  BpfOwners& operator=(const BpfOwners&) = delete;

  // Loads and attaches everything; events of sockets in network namespace
  // `netns` go to handler. On failure, *err is one line naming what is
  // missing (BTF, a program type, a privilege).
  bool Start(uint64_t netns, uint32_t ring_bytes, int cgroup_fd, Handler handler, void* ctx, std::string* err);

  // Hands every event waiting in the ring to the handler: memory reads
  // only, no system call (the ring is mapped), so it may run per packet.
  void Drain();

  uint64_t events_lost() const;
  uint64_t events_sent() const;

 private:
  static int OnEvent(void* self, void* data, size_t size);

  owners* skel_ = nullptr;
  ring_buffer* ring_ = nullptr;
  Handler handler_ = nullptr;
  void* ctx_ = nullptr;
};

// This process's network namespace cookie (SO_NETNS_COOKIE), 0 on failure.
uint64_t OwnNetnsCookie(std::string* err);

}  // namespace pcapml::process
