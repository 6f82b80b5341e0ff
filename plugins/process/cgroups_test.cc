#include "plugins/process/cgroups.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "plugins/process/owner_names.h"

namespace pcapml::process {
namespace {

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(ProcessCgroups, UnitIsTheInnermostServiceOrScope) {
  EXPECT_EQ(UnitOf("/system.slice/nginx.service"), "nginx.service");
  EXPECT_EQ(UnitOf("/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1.scope"),
            "app-firefox-1.scope");
  EXPECT_EQ(UnitOf("/system.slice/docker-" + kId + ".scope"), "docker-" + kId + ".scope");
  EXPECT_EQ(UnitOf("/init.scope"), "init.scope");
  EXPECT_EQ(UnitOf("/user.slice"), "");
  EXPECT_EQ(UnitOf("/"), "");
  EXPECT_EQ(UnitOf("/pcapml-test/curl"), "");
}

TEST(ProcessCgroups, ContainerIdsOfTheUsualRuntimes) {
  EXPECT_EQ(ContainerOf("/system.slice/docker-" + kId + ".scope"), kId);
  EXPECT_EQ(ContainerOf("/docker/" + kId), kId);
  EXPECT_EQ(ContainerOf("/machine.slice/libpod-" + kId + ".scope/container"), kId);
  EXPECT_EQ(ContainerOf("/machine.slice/libpod-conmon-" + kId + ".scope"), "");
  EXPECT_EQ(ContainerOf("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-" +
                        kId + ".scope"),
            kId);
  EXPECT_EQ(ContainerOf("/kubepods/besteffort/pod1234/" + kId), kId);
  EXPECT_EQ(ContainerOf("/kubepods.slice/crio-" + kId + ".scope"), kId);
  EXPECT_EQ(ContainerOf("/system.slice/nginx.service"), "");
  EXPECT_EQ(ContainerOf("/docker/" + kId.substr(1)), "");  // 63 digits: not an ID
  EXPECT_EQ(ContainerOf("/docker/" + std::string(64, 'G')), "");
}

TEST(ProcessCgroups, TreeResolvesIdsToPathsAndNoticesNewOnes) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("pcapml-cgroups-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "system.slice" / "nginx.service");
  auto id = [&](const fs::path& p) {
    struct stat st;
    EXPECT_EQ(stat(p.c_str(), &st), 0);
    return static_cast<uint64_t>(st.st_ino);
  };
  CgroupTree tree;
  std::string err;
  ASSERT_TRUE(tree.Open(root.string(), &err)) << err;
  const std::string* p = tree.Path(id(root / "system.slice" / "nginx.service"));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "/system.slice/nginx.service");
  EXPECT_EQ(*tree.Path(id(root)), "/");
  // A cgroup made later is found by walking again.
  fs::create_directories(root / "user.slice" / "app.scope");
  p = tree.Path(id(root / "user.slice" / "app.scope"));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "/user.slice/app.scope");
  EXPECT_EQ(tree.Path(1), nullptr);
  fs::remove_all(root);
  EXPECT_FALSE(CgroupTree().Open((root / "missing").string(), &err));
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
}

TEST(ProcessNames, ExactBeatsGlobsAndTheMostLiteralGlobWins) {
  OwnerNames n;
  std::string err;
  ASSERT_TRUE(n.Build({{"*", "other"},
                       {"fire*", "browser"},
                       {"firefox*", "browsing"},
                       {"firefox", "exactly"},
                       {"*.service", "system"},
                       {"python?", "py"}},
                      &err))
      << err;
  EXPECT_EQ(*n.Find("firefox"), "exactly");
  EXPECT_EQ(*n.Find("firefox-bin"), "browsing");
  EXPECT_EQ(*n.Find("firewall"), "browser");
  EXPECT_EQ(*n.Find("nginx.service"), "system");
  EXPECT_EQ(*n.Find("python3"), "py");
  EXPECT_EQ(*n.Find("curl"), "other");
  EXPECT_EQ(*n.Find("Firefox"), "other");  // case-sensitive, as command names are
  OwnerNames none;
  ASSERT_TRUE(none.Build({{"curl", "web"}}, &err));
  EXPECT_EQ(none.Find("wget"), nullptr);
}

TEST(ProcessNames, BadTablesAreRefused) {
  std::string err;
  EXPECT_FALSE(OwnerNames().Build({{"curl", "a,b"}}, &err));
  EXPECT_NE(err.find("curl"), std::string::npos);
  EXPECT_FALSE(OwnerNames().Build({{"curl", ""}}, &err));
  EXPECT_FALSE(OwnerNames().Build({{"", "x"}}, &err));
}

}  // namespace
}  // namespace pcapml::process
