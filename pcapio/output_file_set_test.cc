#include "pcapio/output_file_set.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>

#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

class OutputFileSetTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath("fileset-" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string Contents(const std::string& name) const {
    auto b = ReadBytes(dir_ + "/" + name);
    return {b.begin(), b.end()};
  }

  std::string dir_;
};

// Many files, two descriptors, round-robin writes: every file still gets its
// bytes complete and in order, and files are reopened rather than truncated.
TEST_F(OutputFileSetTest, InterleavedWritesThroughTwoDescriptors) {
  OutputFileSet set(dir_, 2, 8);
  std::vector<std::string> expect(7);
  for (int i = 0; i < 7; ++i) set.Add("f" + std::to_string(i));
  for (int round = 0; round < 20; ++round) {
    for (uint32_t id = 0; id < 7; ++id) {
      std::string chunk = std::to_string(round) + (round % 3 == 0 ? std::string(11, 'x') : "") + ";";
      set.Append(id, chunk.data(), chunk.size());
      expect[id] += chunk;
    }
  }
  EXPECT_GT(set.reopens(), 100u);
  EXPECT_TRUE(set.ok()) << set.error();
  for (const std::string& n : Listing()) EXPECT_TRUE(n.ends_with(".partial")) << n;
  std::string err;
  ASSERT_TRUE(set.CommitAll(&err)) << err;
  ASSERT_EQ(Listing().size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(Contents("f" + std::to_string(i)), expect[i]);
}

TEST_F(OutputFileSetTest, BuffersGrowForBusyFilesWithinTheBudget) {
  OutputFileSet set(dir_, 8, 64 << 10);
  std::string chunk(1000, 'z');
  uint32_t busy = set.Add("busy");
  for (int i = 0; i < 1000; ++i) set.Append(busy, chunk.data(), chunk.size());
  EXPECT_EQ(set.buffer_bytes(), 64u << 10);  // grew from 8 KiB
  for (int i = 0; i < 20; ++i) set.Append(set.Add("f" + std::to_string(i)), chunk.data(), chunk.size());
  EXPECT_LE(set.buffer_bytes(), 2u * (64 << 10));
  std::string err;
  ASSERT_TRUE(set.CommitAll(&err)) << err;
  EXPECT_EQ(Contents("busy").size(), 1000u * 1000);
}

TEST_F(OutputFileSetTest, FilesNeverWrittenAreNotCreated) {
  OutputFileSet set(dir_, 4, 64);
  set.Add("empty");
  uint32_t id = set.Add("full");
  set.Append(id, "abc", 3);
  std::string err;
  ASSERT_TRUE(set.CommitAll(&err)) << err;
  EXPECT_EQ(Listing(), std::vector<std::string>{"full"});
}

TEST_F(OutputFileSetTest, AbandonRemovesEveryPartialFile) {
  {
    OutputFileSet set(dir_, 1, 4);
    for (int i = 0; i < 5; ++i) set.Append(set.Add("f" + std::to_string(i)), "0123456789", 10);
    EXPECT_EQ(Listing().size(), 5u);
  }
  EXPECT_TRUE(Listing().empty());
}

TEST_F(OutputFileSetTest, OverwritePatchesAClosedFile) {
  OutputFileSet set(dir_, 1, 1024);
  uint32_t a = set.Add("a"), b = set.Add("b");
  set.Append(a, "hello world", 11);
  set.Append(b, "other", 5);  // closes a
  set.Overwrite(a, 6, "WORLD", 5);
  set.Append(a, "!", 1);
  std::string err;
  ASSERT_TRUE(set.CommitAll(&err)) << err;
  EXPECT_EQ(Contents("a"), "hello WORLD!");
  EXPECT_EQ(Contents("b"), "other");
}

TEST_F(OutputFileSetTest, UnwritableDirectoryIsAnErrorNamingTheFile) {
  OutputFileSet set(dir_ + "/missing", 2, 16);
  set.Append(set.Add("x.pcap"), "abc", 3);
  EXPECT_FALSE(set.ok());
  std::string err;
  EXPECT_FALSE(set.CommitAll(&err));
  EXPECT_NE(err.find("cannot create " + dir_ + "/missing/x.pcap"), std::string::npos) << err;
}

// With the process's descriptor limit lower than max_open, the set shrinks
// its share instead of failing.
TEST_F(OutputFileSetTest, AdaptsToTheDescriptorLimit) {
  rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit low = old;
  low.rlim_cur = 32;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  {
    OutputFileSet set(dir_, 1000, 16);
    for (int i = 0; i < 100; ++i) set.Add("f" + std::to_string(i));
    for (int round = 0; round < 3; ++round)
      for (uint32_t id = 0; id < 100; ++id) set.Append(id, "ab", 2);
    std::string err;
    EXPECT_TRUE(set.CommitAll(&err)) << err;
    EXPECT_LT(set.max_open(), 32u);
  }
  setrlimit(RLIMIT_NOFILE, &old);
  EXPECT_EQ(Listing().size(), 100u);
  EXPECT_EQ(Contents("f99"), "ababab");
}

}  // namespace
}  // namespace pcapml
