// Cgroup v2 for the process plugin: the hierarchy's root (the eBPF programs
// attach there, so they see every socket of the host), a cgroup id's path
// (the id is the inode number of the cgroup's directory), and what a path
// says: the systemd unit or scope, the container.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace pcapml::process {

// The innermost systemd unit of a cgroup path: its last component ending
// in ".service" or ".scope" ("/system.slice/nginx.service" -> "nginx.service",
// "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1.scope"
// -> "app-firefox-1.scope"); empty if none.
std::string_view UnitOf(std::string_view path);

// The container ID in a cgroup path: the innermost component that is a
// 64-hex-digit ID, bare (cgroupfs drivers: "/docker/<id>", "/kubepods/.../<id>")
// or as systemd names it ("docker-<id>.scope", "libpod-<id>.scope",
// "cri-containerd-<id>.scope", "crio-<id>.scope"); conmon scopes are not
// containers. Empty if none.
std::string_view ContainerOf(std::string_view path);

class CgroupTree {
 public:
  CgroupTree() = default;
  ~CgroupTree();
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;

  // Opens the cgroup v2 hierarchy: the first cgroup2 mount of
  // /proc/self/mountinfo, or else a private mount of it (root only) that is
  // detached at once, so nothing stays mounted. `root` instead names the
  // directory to use.
  bool Open(const std::string& root, std::string* err);
  int fd() const { return fd_; }
  const std::string& where() const { return where_; }

  // The cgroup's path from the root ("/system.slice/nginx.service"), or
  // null if no directory has that id. An unknown id walks the tree again,
  // once per id (cgroups come and go).
  const std::string* Path(uint64_t id);

 private:
  void Walk();

  int fd_ = -1;
  std::string where_;
  std::unordered_map<uint64_t, std::string> paths_;
  std::unordered_set<uint64_t> missing_;
};

}  // namespace pcapml::process
