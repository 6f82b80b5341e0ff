// pcapml ids: the sampleIDs of labeled files, one a line, or with --split the
// lists of a train/validation/test split (train.txt, val.txt, test.txt). A
// sample's part depends only on its ID and the seed, so the lists can be
// published, rebuilt from the files anywhere, and grown: adding files adds
// samples but never moves one to another part.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <unordered_set>

#include "base/progress.h"
#include "cli/commands.h"
#include "pcapio/output_file.h"
#include "pcapio/reader.h"
#include "rules/label.h"
#include "rules/sample_id.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

// "80/10/10" (train/val/test) or "90/10" (train/test): positive weights.
bool ParseSplit(const std::string& text, std::vector<uint64_t>* weights, std::string* err) {
  weights->clear();
  size_t start = 0;
  while (start <= text.size()) {
    size_t slash = std::min(text.find('/', start), text.size());
    std::string part = text.substr(start, slash - start);
    char* end = nullptr;
    unsigned long long w = part.empty() || part[0] == '-' ? 0 : strtoull(part.c_str(), &end, 10);
    if (w == 0 || w > 1000000 || end != part.c_str() + part.size())
      return *err = "--split " + text + ": '" + part + "' is not a weight from 1 to 1000000", false;
    weights->push_back(w);
    start = slash + 1;
  }
  if (weights->size() < 2 || weights->size() > 3)
    return *err = "--split " + text + ": give 2 (train/test) or 3 (train/val/test) weights", false;
  return true;
}

// Which part a sample falls in: h = the first 8 bytes of SHA-256("<seed>,<sampleID>")
// (as sampleIDs are made), read as h / 2^64 in [0, 1) and laid over the weights.
size_t PartOf(uint64_t sid, uint64_t seed, const std::vector<uint64_t>& weights) {
  uint64_t total = 0;
  for (uint64_t w : weights) total += w;
  uint64_t h = SampleId(std::to_string(seed) + "," + std::to_string(sid));
  uint64_t x = static_cast<uint64_t>((static_cast<unsigned __int128>(h) * total) >> 64);  // in [0, total)
  size_t part = 0;
  uint64_t below = weights[0];
  while (x >= below) below += weights[++part];
  return part;
}

bool CollectIds(const std::string& path, std::unordered_set<uint64_t>* ids, std::string* err) {
  PacketReader reader;
  if (!reader.Open(path, err)) return false;
  Progress progress("ids " + path);
  Packet p;
  PacketReader::Status st;
  LabelRuns labels;
  uint64_t n = 0;
  while ((st = reader.Next(&p, err)) == PacketReader::Status::kPacket) {
    if (labels.Next(p.comment) && labels.labeled()) ids->insert(labels.label().sample_id);
    progress.Update(reader.position(), reader.file_size(), ++n);
  }
  progress.Done();
  return st == PacketReader::Status::kEnd;
}

bool WriteList(const std::string& path, const std::vector<uint64_t>& ids, std::string* err) {
  OutputFile out;
  if (!out.Open(path, err)) return false;
  for (uint64_t id : ids) {
    std::string line = std::to_string(id) + "\n";
    out.Append(line.data(), line.size());
  }
  return out.Commit(err);
}

}  // namespace

int RunIds(const Args& args) {
  CLI::App app(
      "Lists the sampleIDs of labeled pcapng files, sorted, one a line. With --split, writes "
      "train.txt, val.txt and test.txt (or train.txt and test.txt for two weights) to -O dir: "
      "a sample's part is decided by SHA-256 of \"<seed>,<sampleID>\" alone, so re-running with "
      "more files keeps every earlier sample in its part. The Python sampler reads the lists "
      "(sampler(path, sids=\"train.txt\")).",
      "ids");
  std::vector<std::string> inputs;
  std::string split, dir;
  uint64_t seed = 0;
  app.add_option("-M,--input,input", inputs, "labeled pcapng (or pcap) files to read")->required();
  app.add_option("--split", split, "weights of the parts: train/val/test (80/10/10) or train/test (90/10)");
  app.add_option("--seed", seed, "seed of the split (default 0): another seed, another split");
  app.add_option("-O,--output-dir", dir, "directory for the lists (created if missing); needs --split");
  if (int rc = ParseCommandLine(app, args); rc >= 0) return rc;
  std::vector<uint64_t> weights;
  std::string err;
  if (!split.empty() && !ParseSplit(split, &weights, &err)) return Fail("ids: " + err);
  if (split.empty() != dir.empty()) return Fail("ids: --split and -O go together");

  std::unordered_set<uint64_t> found;
  for (const std::string& input : inputs)
    if (!CollectIds(input, &found, &err)) return Fail(err);
  std::vector<uint64_t> ids(found.begin(), found.end());
  std::sort(ids.begin(), ids.end());
  if (split.empty()) {
    for (uint64_t id : ids) printf("%" PRIu64 "\n", id);
    return kExitOk;
  }
  std::vector<std::vector<uint64_t>> parts(weights.size());
  for (uint64_t id : ids) parts[PartOf(id, seed, weights)].push_back(id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) return Fail("ids: cannot create output directory " + dir);
  const std::vector<const char*> names = weights.size() == 3 ? std::vector<const char*>{"train", "val", "test"}
                                                             : std::vector<const char*>{"train", "test"};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!WriteList(dir + "/" + names[i] + ".txt", parts[i], &err)) return Fail(err);
    printf("%-5s %10zu samples  %s/%s.txt\n", names[i], parts[i].size(), dir.c_str(), names[i]);
  }
  return kExitOk;
}

}  // namespace pcapml
