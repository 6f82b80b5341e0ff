// What the daemon checks about the machine before it captures, and
// `pcapml daemon --check-config` checks without capturing: the user to run
// as exists, the interfaces exist, replayed files open, capture filters
// compile, the output directory exists and that user may write it (and its
// file system can hold [output] max_bytes), the metrics address's port is
// free, post_rotate's program can run. Each problem is one line naming the
// key, file and line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/config.h"

namespace pcapml {

// Every problem found; empty when the config can run here.
std::vector<std::string> CheckEnvironment(const DaemonConfig& config);

// The link types the sources will deliver, known without capturing: a
// replayed file's interfaces, an interface's type from the kernel (what
// libpcap would report for it).
std::vector<uint16_t> ExpectedLinkTypes(const DaemonConfig& config);

// Whether the daemon, started now, gives the output directory to `user`
// (root outside systemd drops to that user after chown-ing it).
bool GivesOutputToUser(const DaemonConfig& config);

// "ADDRESS:PORT" as the metrics endpoint takes it (ParseListenAddress);
// binds it once (SO_REUSEADDR, as the endpoint does) to see that it is
// free. Errors say which.
bool CheckListenAddress(const std::string& listen, std::string* err);

}  // namespace pcapml
