#include "daemon/disk_budget.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace pcapml {
namespace {

std::vector<CompletedFile> Files(std::vector<uint64_t> sizes) {
  std::vector<CompletedFile> out;
  for (size_t i = 0; i < sizes.size(); ++i) out.push_back({"f" + std::to_string(i), sizes[i]});
  return out;
}

TEST(DiskBudget, RemovesTheOldestUntilTheRestAndTheNextFileFit) {
  auto files = Files({100, 100, 100, 100, 100});
  EXPECT_EQ(FilesToRemove(files, 0, 0, 0), 0u);    // no limits
  EXPECT_EQ(FilesToRemove(files, 0, 500, 0), 0u);  // exactly at the budget
  EXPECT_EQ(FilesToRemove(files, 0, 499, 0), 1u);
  EXPECT_EQ(FilesToRemove(files, 0, 500, 100), 1u);  // room for the file being written
  EXPECT_EQ(FilesToRemove(files, 0, 250, 100), 4u);
  EXPECT_EQ(FilesToRemove(files, 3, 0, 0), 2u);    // max_files alone
  EXPECT_EQ(FilesToRemove(files, 4, 250, 0), 3u);  // both: the stricter wins
  EXPECT_EQ(FilesToRemove(files, 2, 10000, 0), 3u);
}

TEST(DiskBudget, KeepsTheNewestFileEvenWhenItAloneIsOverBudget) {
  EXPECT_EQ(FilesToRemove(Files({10, 1000}), 0, 100, 0), 1u);
  EXPECT_EQ(FilesToRemove(Files({1000}), 0, 100, 500), 0u);
  EXPECT_EQ(FilesToRemove({}, 1, 1, 1), 0u);
}

TEST(DiskBudget, ListsCompletedFilesOnlyOldestFirst) {
  fs::path dir = fs::path(testing::TempDir()) / ("pcapml-budget-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, size_t n) { std::ofstream(dir / name) << std::string(n, 'x'); };
  write("cap-20240101T000001Z-000002.pcapng", 20);
  write("cap-20240101T000000Z-000001.pcapng", 10);
  write("cap-20240101T000002Z-000003.pcapng.partial", 30);  // being written
  write("other-20240101T000000Z-000001.pcapng", 40);        // another prefix
  write("cap-notes.txt", 50);
  auto files = ListCompletedFiles(dir.string(), "cap");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(fs::path(files[0].path).filename(), "cap-20240101T000000Z-000001.pcapng");
  EXPECT_EQ(files[0].bytes, 10u);
  EXPECT_EQ(files[1].bytes, 20u);
  OutputConfig config;
  config.directory = dir.string();
  config.prefix = "cap";
  uint64_t free_bytes = 0, size_bytes = 0;
  std::string err;
  ASSERT_TRUE(FileSystemSpace(config.directory, &free_bytes, &size_bytes, &err)) << err;
  EXPECT_GT(size_bytes, 0u);
  // Other programs write to this file system meanwhile: 256 MiB of slack either way.
  constexpr uint64_t kSlack = 256u << 20;
  config.max_bytes = free_bytes - kSlack + 30;  // within what is free plus the two completed files
  EXPECT_TRUE(CheckDiskBudget(config, &err)) << err;
  config.max_bytes = free_bytes + kSlack;
  EXPECT_FALSE(CheckDiskBudget(config, &err));
  EXPECT_NE(err.find("max_bytes"), std::string::npos) << err;
  EXPECT_NE(err.find("free plus"), std::string::npos) << err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pcapml
