#include "pcapio/packet_sorter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace pcapml {
namespace {

struct Input {
  SortKey key;
  uint32_t interface;
  std::vector<uint8_t> data;
  std::string comment;
};

// Packets of a few samples, interleaved, with repeated timestamps (ties
// broken by input order), unlabeled ones, and sizes up to `max_size`.
std::vector<Input> MakeInputs(int n, size_t max_size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Input> in;
  for (int i = 0; i < n; ++i) {
    Input p;
    uint64_t sample = rng() % 7;
    int64_t ts = 1700000000'000000000 + static_cast<int64_t>(rng() % 50);
    bool unlabeled = sample == 6;
    p.key = unlabeled ? SortKey::Unlabeled(ts, i) : SortKey::Labeled(sample * 1000003, ts, i);
    p.interface = static_cast<uint32_t>(rng() % 3);
    p.data.resize(rng() % max_size);
    for (uint8_t& b : p.data) b = static_cast<uint8_t>(rng());
    if (!unlabeled) p.comment = std::to_string(sample * 1000003) + ",label" + std::to_string(sample);
    in.push_back(std::move(p));
  }
  return in;
}

struct Output {
  std::vector<Input> packets;
  uint64_t runs = 0, passes = 0;
};

Output Sort(const std::vector<Input>& in, PacketSorter::Options opts) {
  Output out;
  opts.tmpdir = testing::TempDir().empty() ? "/tmp" : testing::TempDir();
  PacketSorter sorter(opts);
  std::string err;
  for (const Input& p : in) {
    EXPECT_TRUE(sorter.Add(p.key, p.interface, p.data.data(), static_cast<uint32_t>(p.data.size()),
                           static_cast<uint32_t>(p.data.size()) + 5, p.comment, &err))
        << err;
  }
  bool ok = sorter.Merge(
      [&](const SortedPacket& p) {
        EXPECT_EQ(p.orig_len, p.caplen + 5);
        out.packets.push_back({p.key, p.interface, {p.data, p.data + p.caplen}, std::string(p.comment)});
      },
      &err);
  EXPECT_TRUE(ok) << err;
  out.runs = sorter.runs_spilled();
  out.passes = sorter.merge_passes();
  return out;
}

void ExpectSortedLike(const std::vector<Input>& in, const Output& out) {
  std::vector<Input> expect = in;
  std::stable_sort(expect.begin(), expect.end(), [](const Input& a, const Input& b) {
    if (a.key.unlabeled() != b.key.unlabeled()) return b.key.unlabeled();
    if (a.key.sample != b.key.sample) return a.key.sample < b.key.sample;
    return a.key.ts_ns < b.key.ts_ns;  // stable: input order breaks ties
  });
  ASSERT_EQ(out.packets.size(), expect.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ(out.packets[i].key.seq, expect[i].key.seq) << "at " << i;
    EXPECT_EQ(out.packets[i].interface, expect[i].interface);
    EXPECT_EQ(out.packets[i].data, expect[i].data);
    EXPECT_EQ(out.packets[i].comment, expect[i].comment);
  }
}

TEST(PacketSorterTest, InMemoryWhenTheBudgetHoldsEverything) {
  auto in = MakeInputs(2000, 300, 1);
  Output out = Sort(in, {});
  EXPECT_EQ(out.runs, 0u);
  ExpectSortedLike(in, out);
}

TEST(PacketSorterTest, TinyBudgetSpillsManyRunsAndMergesInPasses) {
  auto in = MakeInputs(3000, 300, 2);
  PacketSorter::Options o;
  o.memory = 4096;
  o.max_fan_in = 3;
  o.merge_buffer = 1024;  // forces refills inside records
  Output out = Sort(in, o);
  EXPECT_GT(out.runs, 100u);
  EXPECT_GT(out.passes, 10u);
  ExpectSortedLike(in, out);
}

// Older pcapml crashed on packets over 8 KB; here some are larger than the
// whole budget and larger than the merge buffers.
TEST(PacketSorterTest, PacketsLargerThanTheBudget) {
  auto in = MakeInputs(60, 200000, 3);
  size_t big = 0;
  for (const Input& p : in) big += p.data.size() > 8192;
  ASSERT_GT(big, 40u);
  PacketSorter::Options o;
  o.memory = 64 << 10;
  o.max_fan_in = 4;
  o.merge_buffer = 4096;
  Output out = Sort(in, o);
  EXPECT_GT(out.runs, 30u);
  ExpectSortedLike(in, out);
}

TEST(PacketSorterTest, UnlabeledGoLastEvenAfterTheLargestSampleId) {
  std::vector<Input> in(3);
  in[0].key = SortKey::Unlabeled(1, 0);
  in[1].key = SortKey::Labeled(~uint64_t{0}, 5, 1);
  in[2].key = SortKey::Labeled(0, 9, 2);
  Output out = Sort(in, {});
  ASSERT_EQ(out.packets.size(), 3u);
  EXPECT_EQ(out.packets[0].key.seq, 2u);
  EXPECT_EQ(out.packets[1].key.seq, 1u);
  EXPECT_TRUE(out.packets[2].key.unlabeled());
}

TEST(PacketSorterTest, UnwritableTempDirectoryIsAnError) {
  PacketSorter::Options o;
  o.memory = 1024;
  o.tmpdir = "/nonexistent-pcapml-dir";
  PacketSorter sorter(o);
  std::vector<uint8_t> data(600);
  std::string err;
  EXPECT_TRUE(sorter.Add(SortKey::Labeled(1, 1, 0), 0, data.data(), 600, 600, "1,a", &err));
  EXPECT_FALSE(sorter.Add(SortKey::Labeled(1, 1, 1), 0, data.data(), 600, 600, "1,a", &err));
  EXPECT_NE(err.find("cannot create a temporary file in /nonexistent-pcapml-dir"), std::string::npos) << err;
}

}  // namespace
}  // namespace pcapml
