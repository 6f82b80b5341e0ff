#include "pcapio/decompressor.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <filesystem>

#include "pcapio/reader.h"
#include "pcapio/test_util.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

std::vector<uint8_t> Gzip(const uint8_t* data, size_t n) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(deflateBound(&z, n) + 64);
  z.next_in = const_cast<uint8_t*>(data);
  z.avail_in = static_cast<uInt>(n);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::vector<uint8_t> Zstd(const uint8_t* data, size_t n) {
  std::vector<uint8_t> out(ZSTD_compressBound(n));
  out.resize(ZSTD_compress(out.data(), out.size(), data, n, 3));
  return out;
}

struct Read {
  PacketReader::Status status;
  std::vector<int64_t> times;
  std::vector<std::string> comments;
  std::string err, compression;
};

Read ReadFile(const std::string& path) {
  Read r;
  PacketReader reader;
  if (!reader.Open(path, &r.err)) return r.status = PacketReader::Status::kError, r;
  r.compression = reader.compression();
  Packet p;
  while ((r.status = reader.Next(&p, &r.err)) == PacketReader::Status::kPacket) {
    r.times.push_back(p.ts_ns);
    r.comments.emplace_back(p.comment);
  }
  return r;
}

class DecompressorTest : public testing::TestWithParam<const char*> {
 protected:
  std::vector<uint8_t> Compress(const std::vector<uint8_t>& b, size_t from, size_t to) {
    return std::string(GetParam()) == "gzip" ? Gzip(b.data() + from, to - from) : Zstd(b.data() + from, to - from);
  }
};

TEST_P(DecompressorTest, ReadsLikeThePlainFileAndSaysWhenCutShort) {
  std::string plain = TempPath("plain.pcapng"), packed = TempPath("packed");
  WriteCapture(plain, SamplePackets(300));
  std::vector<uint8_t> bytes = ReadBytes(plain);
  Read want = ReadFile(plain);
  ASSERT_EQ(want.status, PacketReader::Status::kEnd);
  ASSERT_EQ(want.times.size(), 300u);

  // Whole, and as two members/frames one after the other (what `cat a.gz b.gz` makes).
  for (bool two : {false, true}) {
    std::vector<uint8_t> z = Compress(bytes, 0, two ? bytes.size() / 3 : bytes.size());
    if (two) {
      std::vector<uint8_t> rest = Compress(bytes, bytes.size() / 3, bytes.size());
      z.insert(z.end(), rest.begin(), rest.end());
    }
    WriteBytes(packed, z, z.size());
    Read got = ReadFile(packed);
    EXPECT_EQ(got.status, PacketReader::Status::kEnd) << got.err;
    EXPECT_EQ(got.compression, GetParam());
    EXPECT_EQ(got.times, want.times);
    EXPECT_EQ(got.comments, want.comments);
  }

  // Cut anywhere: a prefix of the packets, then kTruncated (never kEnd, never an error).
  std::vector<uint8_t> z = Compress(bytes, 0, bytes.size());
  for (size_t n = 8; n < z.size(); n += 97) {
    WriteBytes(packed, z, n);
    Read got = ReadFile(packed);
    if (got.status == PacketReader::Status::kError && got.times.empty() &&
        (got.err.find("without a capture") != std::string::npos || got.err.find("cut short") != std::string::npos))
      continue;  // cut before the file header was whole: nothing to read
    ASSERT_EQ(got.status, PacketReader::Status::kTruncated) << "cut at " << n << ": " << got.err;
    EXPECT_NE(got.err.find("cut short"), std::string::npos) << got.err;
    ASSERT_LE(got.times.size(), want.times.size());
    EXPECT_TRUE(std::equal(got.times.begin(), got.times.end(), want.times.begin()));
  }

  // Corrupt data is an error naming the compressed offset.
  z[z.size() / 2] ^= 0xff;
  z[z.size() / 2 + 1] ^= 0xff;
  WriteBytes(packed, z, z.size());
  Read got = ReadFile(packed);
  EXPECT_EQ(got.status, PacketReader::Status::kError) << got.err;
  EXPECT_NE(got.err.find("at compressed byte offset"), std::string::npos) << got.err;
  fs::remove(plain);
  fs::remove(packed);
}

INSTANTIATE_TEST_SUITE_P(Both, DecompressorTest, testing::Values("gzip", "zstd"));

}  // namespace
}  // namespace pcapml
