#include "daemon/preflight.h"

#include <arpa/inet.h>
#include <grp.h>
#include <net/if.h>
#include <netdb.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "daemon/disk_budget.h"
#include "daemon/http_endpoint.h"
#include "pcapio/reader.h"
#include "rules/bpf.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

constexpr uint16_t kEthernet = 1, kRaw = 101, kLinuxSll = 113;

// Interface names libpcap can open: the kernel's, plus pseudo-devices
// ("any", "nflog", ...) only libpcap knows.
std::set<std::string> KnownInterfaces() {
  std::set<std::string> names;
  if (struct if_nameindex* list = if_nameindex()) {
    for (struct if_nameindex* i = list; i->if_index != 0; ++i) names.insert(i->if_name);
    if_freenameindex(list);
  }
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_if_t* devs = nullptr;
  if (pcap_findalldevs(&devs, errbuf) == 0) {
    for (pcap_if_t* d = devs; d; d = d->next) names.insert(d->name);
    pcap_freealldevs(devs);
  }
  return names;
}

std::string JoinSome(const std::set<std::string>& names, size_t max) {
  std::string out;
  size_t n = 0;
  for (const std::string& s : names) {
    if (n++ == max) return out + ", ...";
    out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

// The link type libpcap gives a live interface, from the kernel's ARPHRD_*
// type: Ethernet and loopback are Ethernet, ARPHRD_NONE (tun) is raw IP,
// "any" and types libpcap has no header for are Linux cooked (SLL).
uint16_t InterfaceLinkType(const std::string& name) {
  if (name == "any") return kLinuxSll;
  std::ifstream in("/sys/class/net/" + name + "/type");
  int arphrd = -1;
  if (!(in >> arphrd)) return kEthernet;
  switch (arphrd) {
    case 1:
    case 772:
      return kEthernet;  // ARPHRD_ETHER, ARPHRD_LOOPBACK
    case 65534:
      return kRaw;  // ARPHRD_NONE
    default:
      return kLinuxSll;
  }
}

// Searchable (x) by uid/gid: what a path's ancestors must be for the user
// to reach it; with `write` also writable.
bool Permits(const struct stat& st, const struct passwd& pw, bool write) {
  if (pw.pw_uid == 0) return true;
  mode_t need_u = S_IXUSR | (write ? S_IWUSR : 0), need_g = S_IXGRP | (write ? S_IWGRP : 0),
         need_o = S_IXOTH | (write ? S_IWOTH : 0);
  if (st.st_uid == pw.pw_uid) return (st.st_mode & need_u) == need_u;
  int n = 64;
  std::vector<gid_t> groups(n);
  if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
    groups.resize(n);
    getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n);
  }
  groups.resize(std::max(n, 0));
  for (gid_t g : groups)
    if (g == st.st_gid) return (st.st_mode & need_g) == need_g;
  return (st.st_mode & need_o) == need_o;
}

// The directory's ancestors must let the user through (tmp directories
// under a private home often do not).
std::string BlockedAncestor(const std::string& dir, const struct passwd& pw) {
  fs::path p = fs::absolute(dir).lexically_normal();
  for (fs::path up = p.parent_path(); !up.empty(); up = up.parent_path()) {
    struct stat st;
    if (stat(up.c_str(), &st) == 0 && !Permits(st, pw, false)) return up.string();
    if (up == up.root_path()) break;
  }
  return "";
}

std::string CheckOutputDirectory(const DaemonConfig& c) {
  const std::string& dir = c.output.directory;
  std::string where = c.Origin("output.directory") + ": " + dir;
  struct stat st;
  if (stat(dir.c_str(), &st) != 0)
    return where + (errno == ENOENT ? " does not exist (pcapml does not create it; mkdir it, or let systemd's "
                                      "StateDirectory= do so)"
                                    : std::string(": ") + strerror(errno));
  if (!S_ISDIR(st.st_mode)) return where + " is not a directory";
  struct statvfs vfs;
  if (statvfs(dir.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) return where + " is on a read-only file system";
  if (!GivesOutputToUser(c)) {
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
      int why = errno;
      struct passwd* me = getpwuid(geteuid());
      return where + " is not writable by user '" + (me ? me->pw_name : std::to_string(geteuid())) +
             "', who runs the daemon: " + strerror(why);
    }
    return "";
  }
  // Root drops to `user` and gives it the directory: the way there must be open to it.
  struct passwd* pw = getpwnam(c.user.c_str());
  if (!pw) return "";  // reported on the user key
  std::string blocked = BlockedAncestor(dir, *pw);
  if (!blocked.empty())
    return where + ": user '" + c.user + "', who runs the daemon, cannot reach it: " + blocked + " is closed to it";
  return "";
}

std::string CheckPostRotate(const DaemonConfig& c) {
  if (c.output.post_rotate.empty()) return "";
  const std::string& program = c.output.post_rotate[0];
  std::string where = c.Origin("output.post_rotate") + ": program '" + program + "'";
  auto runnable = [](const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), F_OK) != 0) return where + " does not exist";
    return runnable(program) ? "" : where + " is not an executable file";
  }
  const char* env = getenv("PATH");
  std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= path.size();) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(start, colon - start);
    if (runnable((dir.empty() ? "." : dir) + "/" + program)) return "";
    start = colon + 1;
  }
  return where + " is not an executable in PATH (" + path + ")";
}

// The capture filter compiles for the interface's link type.
std::string CheckCaptureFilter(const SourceConfig& s) {
  if (s.filter.empty() || s.interface.empty()) return "";
  pcap_t* dead = pcap_open_dead(LinkTypeToDlt(InterfaceLinkType(s.interface)), static_cast<int>(s.snaplen));
  if (!dead) return "";
  bpf_program prog;
  std::string out;
  if (pcap_compile(dead, &prog, s.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    out = s.filter_origin + ": invalid capture filter '" + s.filter + "': " + pcap_geterr(dead);
  else
    pcap_freecode(&prog);
  pcap_close(dead);
  return out;
}

std::vector<uint16_t> FileLinkTypes(const std::string& path, std::string* err) {
  PacketReader reader;
  std::vector<uint16_t> out;
  if (!reader.Open(path, err)) return out;
  Packet p;
  if (reader.Next(&p, err) == PacketReader::Status::kError) return out;  // IDBs come before the first packet
  err->clear();
  for (const Interface& i : reader.interfaces()) out.push_back(i.link_type);
  return out;
}

}  // namespace

bool GivesOutputToUser(const DaemonConfig& config) {
  return getuid() == 0 && !config.user.empty() && !getenv("INVOCATION_ID");
}

bool CheckListenAddress(const std::string& listen, std::string* err) {
  std::string host;
  uint16_t port;
  if (!ParseListenAddress(listen, &host, &port, err)) return false;
  struct addrinfo hints {};
  struct addrinfo* found = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return *err = "address '" + host + "': " + gai_strerror(rc), false;
  int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  int one = 1;
  bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(fd, found->ai_addr, found->ai_addrlen) == 0;
  if (!ok) *err = std::string("cannot listen: ") + strerror(errno);
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  return ok;
}

std::vector<std::string> CheckEnvironment(const DaemonConfig& c) {
  std::vector<std::string> problems;
  auto add = [&](std::string p) {
    if (!p.empty()) problems.push_back(std::move(p));
  };
  if (!c.user.empty() && !getpwnam(c.user.c_str())) add(c.Origin("user") + ": no user '" + c.user + "' here");
  std::set<std::string> known;
  for (const SourceConfig& s : c.sources) {
    if (!s.interface.empty()) {
      if (known.empty()) known = KnownInterfaces();
      if (!known.count(s.interface))
        add(s.origin + ": no interface '" + s.interface + "' here (there are: " + JoinSome(known, 12) + ")");
      else
        add(CheckCaptureFilter(s));
    } else {
      std::string err;
      FileLinkTypes(s.file, &err);
      if (!err.empty()) add(s.origin + ": " + err);
    }
  }
  std::string output_problem = CheckOutputDirectory(c);
  add(output_problem);
  if (std::string why; output_problem.empty() && !CheckDiskBudget(c.output, &why)) {
    const std::string kKey = "[output] max_bytes ";  // the origin names the key already
    add(c.Origin("output.max_bytes") + " " + (why.rfind(kKey, 0) == 0 ? why.substr(kKey.size()) : why));
  }
  add(CheckPostRotate(c));
  std::string err;
  if (!c.metrics_listen.empty() && !CheckListenAddress(c.metrics_listen, &err))
    add(c.Origin("metrics.listen") + " \"" + c.metrics_listen + "\": " + err);
  return problems;
}

std::vector<uint16_t> ExpectedLinkTypes(const DaemonConfig& c) {
  std::set<uint16_t> types;
  for (const SourceConfig& s : c.sources) {
    if (!s.interface.empty()) {
      types.insert(InterfaceLinkType(s.interface));
      continue;
    }
    std::string err;
    for (uint16_t t : FileLinkTypes(s.file, &err)) types.insert(t);
  }
  return {types.begin(), types.end()};
}

}  // namespace pcapml
