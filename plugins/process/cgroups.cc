#include "plugins/process/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace pcapml::process {
namespace {

constexpr size_t kMaxCgroups = 1 << 20;  // bounds a walk of a hostile tree
constexpr int kMaxDepth = 64;

bool IsHexId(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// mountinfo escapes blanks in paths as \040 and the like.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The mount point of the first cgroup2 mount whose root is the hierarchy's.
std::string FindMount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, dev, root, point, fstype;
    pre >> id >> parent >> dev >> root >> point;
    post >> fstype;
    if (fstype == "cgroup2" && root == "/") return Unescape(point);
  }
  return "";
}

}  // namespace

std::string_view UnitOf(std::string_view path) {
  while (!path.empty()) {
    size_t slash = path.rfind('/');
    std::string_view last = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
    if (last.ends_with(".service") || last.ends_with(".scope")) return last;
    if (slash == std::string_view::npos) break;
    path = path.substr(0, slash);
  }
  return {};
}

std::string_view ContainerOf(std::string_view path) {
  static constexpr std::string_view kPrefixes[] = {"docker-", "libpod-", "cri-containerd-", "crio-", "containerd-"};
  while (!path.empty()) {
    size_t slash = path.rfind('/');
    std::string_view last = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
    std::string_view id = last;
    if (id.ends_with(".scope")) {
      id.remove_suffix(6);
      for (std::string_view p : kPrefixes)
        if (id.starts_with(p)) {
          id.remove_prefix(p.size());
          break;
        }
    }
    if (IsHexId(id)) return id;
    if (slash == std::string_view::npos) break;
    path = path.substr(0, slash);
  }
  return {};
}

CgroupTree::~CgroupTree() {
  if (fd_ >= 0) close(fd_);
}

bool CgroupTree::Open(const std::string& root, std::string* err) {
  std::string dir = root.empty() ? FindMount() : root;
  if (!dir.empty()) {
    fd_ = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) return *err = "cgroup v2 hierarchy " + dir + ": " + strerror(errno), false;
    where_ = dir;
    return true;
  }
  // No cgroup2 mount (a host on cgroup v1 only): the v2 hierarchy exists all
  // the same; mount it privately, keep a descriptor, detach the mount.
  char tmp[] = "/tmp/pcapml-cgroup2.XXXXXX";
  if (!mkdtemp(tmp))
    return *err = std::string("no cgroup v2 hierarchy is mounted, and mkdtemp failed: ") + strerror(errno), false;
  bool mounted = mount("none", tmp, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;
  int e = errno;
  if (mounted) {
    fd_ = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    e = errno;
    umount2(tmp, MNT_DETACH);
  }
  rmdir(tmp);
  if (fd_ < 0)
    return *err = std::string("no cgroup v2 hierarchy is mounted, and mounting one failed (") + strerror(e) +
                  "): mount -t cgroup2 none /sys/fs/cgroup/unified, or start the daemon as root",
           false;
  where_ = "a private cgroup2 mount";
  return true;
}

const std::string* CgroupTree::Path(uint64_t id) {
  auto it = paths_.find(id);
  if (it != paths_.end()) return &it->second;
  if (fd_ < 0 || missing_.count(id)) return nullptr;
  Walk();
  it = paths_.find(id);
  if (it != paths_.end()) return &it->second;
  if (missing_.size() > 65536) missing_.clear();
  missing_.insert(id);
  return nullptr;
}

// Depth first, by descriptors relative to the root (the root may be a
// detached private mount with no path).
void CgroupTree::Walk() {
  paths_.clear();
  missing_.clear();
  struct Dir {
    int fd;
    std::string path;
    int depth;
  };
  // A new open file description: a dup() would share the offset the last walk left at the end.
  int root = openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return;
  struct stat st;
  if (fstat(root, &st) == 0) paths_[st.st_ino] = "/";
  std::vector<Dir> todo = {{root, "", 0}};
  while (!todo.empty() && paths_.size() < kMaxCgroups) {
    Dir d = std::move(todo.back());
    todo.pop_back();
    DIR* dir = fdopendir(d.fd);
    if (!dir) {
      close(d.fd);
      continue;
    }
    while (struct dirent* e = readdir(dir)) {
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      std::string path = d.path + "/" + e->d_name;
      if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      paths_[st.st_ino] = path;
      if (d.depth + 1 >= kMaxDepth) continue;
      int child = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (child >= 0) todo.push_back({child, path, d.depth + 1});
    }
    closedir(dir);
  }
  for (Dir& d : todo) close(d.fd);
}

}  // namespace pcapml::process
