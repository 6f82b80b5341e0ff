// The sockets that existed before the process plugin started, so their
// traffic is attributed too: a sock_diag dump of this network namespace's
// TCP and UDP sockets (5-tuple, cookie, uid, cgroup id, inode), then the
// /proc/<pid>/fd links to "socket:[inode]" for each socket's process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plugins/process/socket_table.h"

namespace pcapml::process {

struct ExistingSocket {
  Tuple tuple;  // bound (remote port 0): a listener or an unconnected UDP socket
  uint64_t cookie = 0;
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;  // 0: the kernel did not say
  uint32_t inode = 0;
  // A TCP connection on a listener's local port: the accepting end. On
  // loopback both ends are here; the other one initiated the connection.
  bool accepted = false;
  uint32_t pid = 0;  // 0: no readable process holds it
  std::string comm;
};

// Every TCP and UDP socket of this network namespace (IPv4 and IPv6), but
// TIME_WAIT and request sockets (they belong to no process).
bool ListSockets(std::vector<ExistingSocket>* out, std::string* err);

// Fills in pid and comm from /proc (the lowest pid holding each socket);
// processes it may not read keep pid 0.
void FindProcesses(std::vector<ExistingSocket>* sockets);

}  // namespace pcapml::process
