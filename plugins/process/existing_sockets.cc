#include "plugins/process/existing_sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace pcapml::process {
namespace {

constexpr uint8_t kTcpListen = 10, kTcpTimeWait = 6, kTcpClose = 7;

struct Request {
  nlmsghdr nh;
  inet_diag_req_v2 req;
};

void Address(int family, const uint32_t* words, std::array<uint8_t, 16>* out) {
  std::memcpy(out->data(), words, family == AF_INET ? 4 : 16);
}

// IPv4-mapped IPv6 as IPv4, the way its packets look.
void Unmap(Tuple* t) {
  static const uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  auto mapped = [&](const std::array<uint8_t, 16>& a) { return std::memcmp(a.data(), kPrefix, 12) == 0; };
  bool remote_zero = std::all_of(t->raddr.begin(), t->raddr.end(), [](uint8_t b) { return b == 0; });
  if (t->ip_version != 6 || !mapped(t->laddr) || !(mapped(t->raddr) || remote_zero)) return;
  t->ip_version = 4;
  std::memmove(t->laddr.data(), t->laddr.data() + 12, 4);
  std::fill(t->laddr.begin() + 4, t->laddr.end(), 0);
  std::memmove(t->raddr.data(), t->raddr.data() + 12, 4);
  std::fill(t->raddr.begin() + 4, t->raddr.end(), 0);
}

bool Dump(int fd, uint8_t family, uint8_t protocol, std::vector<ExistingSocket>* out, std::string* err) {
  Request r{};
  r.nh.nlmsg_len = sizeof r;
  r.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  r.req.sdiag_family = family;
  r.req.sdiag_protocol = protocol;
  r.req.idiag_states = ~((1u << kTcpTimeWait) | (1u << 12 /* TCP_NEW_SYN_RECV */));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, &r, sizeof r, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return *err = std::string("sock_diag request: ") + strerror(errno), false;
  std::vector<char> buf(64 << 10);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return *err = std::string("sock_diag: ") + strerror(errno), false;
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<uint32_t>(n));
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        // A kernel without UDP (or IPv6) diag support has nothing to tell.
        if (e->error == -ENOENT || e->error == -EOPNOTSUPP) return true;
        return *err = std::string("sock_diag: ") + strerror(-e->error), false;
      }
      auto* m = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
      if (m->idiag_state == kTcpTimeWait || !m->idiag_inode) continue;
      ExistingSocket s;
      s.tuple.ip_version = family == AF_INET ? 4 : 6;
      s.tuple.protocol = protocol;
      s.tuple.lport = ntohs(m->id.idiag_sport);
      s.tuple.rport = ntohs(m->id.idiag_dport);
      Address(family, m->id.idiag_src, &s.tuple.laddr);
      if (s.tuple.rport) Address(family, m->id.idiag_dst, &s.tuple.raddr);
      Unmap(&s.tuple);
      if (protocol == IPPROTO_TCP && m->idiag_state == kTcpListen) s.tuple.rport = 0, s.tuple.raddr = {};
      if (protocol == IPPROTO_TCP && m->idiag_state == kTcpClose && !s.tuple.lport) continue;  // never bound
      if (!s.tuple.lport) continue;
      s.cookie = uint64_t{m->id.idiag_cookie[1]} << 32 | m->id.idiag_cookie[0];
      s.uid = m->idiag_uid;
      s.inode = m->idiag_inode;
      int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (auto* a = reinterpret_cast<rtattr*>(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == INET_DIAG_CGROUP_ID && RTA_PAYLOAD(a) >= 8) std::memcpy(&s.cgroup_id, RTA_DATA(a), 8);
      out->push_back(std::move(s));
    }
  }
}

}  // namespace

bool ListSockets(std::vector<ExistingSocket>* out, std::string* err) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return *err = std::string("sock_diag socket: ") + strerror(errno), false;
  bool ok = true;
  for (uint8_t family : {AF_INET, AF_INET6})
    for (uint8_t protocol : {IPPROTO_TCP, IPPROTO_UDP}) ok = ok && Dump(fd, family, protocol, out, err);
  close(fd);
  if (!ok) return false;
  // The accepting end of a TCP connection sits on a listener's port.
  std::vector<const ExistingSocket*> listeners;
  for (const ExistingSocket& s : *out)
    if (s.tuple.protocol == IPPROTO_TCP && IsBound(s.tuple)) listeners.push_back(&s);
  for (ExistingSocket& s : *out) {
    if (s.tuple.protocol != IPPROTO_TCP || IsBound(s.tuple)) continue;
    for (const ExistingSocket* l : listeners) {
      bool any = std::all_of(l->tuple.laddr.begin(), l->tuple.laddr.end(), [](uint8_t b) { return b == 0; });
      if (l->tuple.lport == s.tuple.lport && (any || l->tuple.laddr == s.tuple.laddr)) s.accepted = true;
    }
  }
  return true;
}

void FindProcesses(std::vector<ExistingSocket>* sockets) {
  std::unordered_map<uint32_t, std::vector<ExistingSocket*>> by_inode;
  for (ExistingSocket& s : *sockets) by_inode[s.inode].push_back(&s);
  DIR* proc = opendir("/proc");
  if (!proc) return;
  std::vector<uint32_t> pids;
  while (dirent* e = readdir(proc)) {
    char* end;
    unsigned long pid = strtoul(e->d_name, &end, 10);
    if (*end == '\0' && pid > 0) pids.push_back(static_cast<uint32_t>(pid));
  }
  closedir(proc);
  std::sort(pids.begin(), pids.end());  // the lowest pid holding a socket (a parent before its children)
  for (uint32_t pid : pids) {
    std::string dir = "/proc/" + std::to_string(pid);
    DIR* fds = opendir((dir + "/fd").c_str());
    if (!fds) continue;  // gone, or not ours to read
    std::string comm;
    while (dirent* e = readdir(fds)) {
      char link[64];
      ssize_t n = readlinkat(dirfd(fds), e->d_name, link, sizeof link - 1);
      if (n <= 8 || std::strncmp(link, "socket:[", 8) != 0) continue;
      link[n] = '\0';
      auto it = by_inode.find(static_cast<uint32_t>(strtoul(link + 8, nullptr, 10)));
      if (it == by_inode.end()) continue;
      if (comm.empty()) {
        int cfd = open((dir + "/comm").c_str(), O_RDONLY | O_CLOEXEC);
        char buf[32];
        ssize_t got = cfd >= 0 ? read(cfd, buf, sizeof buf - 1) : -1;
        if (cfd >= 0) close(cfd);
        if (got > 0) comm.assign(buf, buf[got - 1] == '\n' ? got - 1 : got);
      }
      for (ExistingSocket* s : it->second)
        if (!s->pid) s->pid = pid, s->comm = comm;
    }
    closedir(fds);
  }
}

}  // namespace pcapml::process
