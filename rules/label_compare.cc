#include "rules/label_compare.h"

#include <xxhash.h>

#include <algorithm>
#include <map>

#include "rules/label.h"

namespace pcapml {
namespace {

std::string_view LabelOf(std::string_view comment) {
  SampleLabel label;
  if (!ParseLabel(comment, &label) || label.name.empty()) return kNoLabel;
  return label.name;
}

// Reads every packet of a file, handing its key and label to add.
template <typename Add>
bool ReadLabels(const std::string& path, Add add, std::string* err) {
  PacketReader reader;
  if (!reader.Open(path, err)) return false;
  Packet p;
  PacketReader::Status st;
  // Consecutive packets mostly share a comment: parse it once.
  std::string last_comment;
  std::string label(kNoLabel);
  while ((st = reader.Next(&p, err)) == PacketReader::Status::kPacket) {
    if (p.comment != last_comment) {
      last_comment.assign(p.comment);
      label.assign(LabelOf(last_comment));
    }
    add(KeyOf(p), label);
  }
  return st == PacketReader::Status::kEnd;
}

void Bump(std::vector<uint64_t>* counts, uint32_t id) {
  if (counts->size() <= id) counts->resize(id + 1);
  ++(*counts)[id];
}

}  // namespace

PacketKey KeyOf(const Packet& p) { return {p.ts_ns, XXH3_64bits(p.data, p.caplen), p.orig_len}; }

uint32_t LabelNames::Id(std::string_view label) {
  auto it = ids_.find(std::string(label));
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(label);
  ids_.emplace(names_.back(), id);
  return id;
}

std::optional<uint32_t> LabelNames::Find(std::string_view label) const {
  auto it = ids_.find(std::string(label));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void LabelComparison::AddTruth(const PacketKey& key, std::string_view label) {
  truth_.push_back({key.ts_ns, key.hash, key.orig_len, truth_names_.Id(label), 0});
}

void LabelComparison::Seal() {
  std::stable_sort(truth_.begin(), truth_.end(),
                   [](const TruthPacket& a, const TruthPacket& b) { return a.key() < b.key(); });
  sealed_ = true;
}

// The first truth packet with this key not yet taken, in the truth's file
// order: equal packets pair up in order.
void LabelComparison::AddGuess(const PacketKey& key, std::string_view label) {
  if (!sealed_) Seal();
  uint32_t g = guess_names_.Id(label);
  auto it = std::lower_bound(truth_.begin(), truth_.end(), key,
                             [](const TruthPacket& t, const PacketKey& k) { return t.key() < k; });
  while (it != truth_.end() && it->key() == key && it->taken) ++it;
  if (it == truth_.end() || it->key() != key) {
    Bump(&guess_only_, g);
    ++guess_only_total_;
    return;
  }
  it->taken = 1;
  ++cells_[uint64_t{it->label} << 32 | g];
  ++matched_;
  if (truth_names_.Name(it->label) == guess_names_.Name(g)) ++agreed_;
}

void LabelComparison::Finish() {
  if (finished_) return;
  finished_ = true;
  for (const TruthPacket& t : truth_) {
    if (t.taken) continue;
    Bump(&truth_only_, t.label);
    ++truth_only_total_;
  }
}

uint64_t LabelComparison::Cell(uint32_t t, uint32_t g) const {
  auto it = cells_.find(uint64_t{t} << 32 | g);
  return it == cells_.end() ? 0 : it->second;
}

std::vector<LabelComparison::LabelScore> LabelComparison::Scores() const {
  std::map<std::string, LabelScore> by_name;
  for (const auto& [cell, n] : cells_) {
    const std::string& t = truth_names_.Name(static_cast<uint32_t>(cell >> 32));
    const std::string& g = guess_names_.Name(static_cast<uint32_t>(cell));
    by_name[t].truth += n;
    by_name[g].guessed += n;
    if (t == g) by_name[t].correct += n;
  }
  // Labels seen only in packets the other side lacks still get a row.
  for (uint32_t i = 0; i < truth_names_.size(); ++i) by_name[truth_names_.Name(i)];
  for (uint32_t i = 0; i < guess_names_.size(); ++i) by_name[guess_names_.Name(i)];
  std::vector<LabelScore> out;
  for (auto& [name, s] : by_name) {
    s.label = name;
    if (s.guessed) s.precision = static_cast<double>(s.correct) / static_cast<double>(s.guessed);
    if (s.truth) s.recall = static_cast<double>(s.correct) / static_cast<double>(s.truth);
    out.push_back(std::move(s));
  }
  return out;
}

bool CompareLabelFiles(const std::string& truth, const std::string& guess, LabelComparison* out, std::string* err) {
  if (!ReadLabels(
          truth, [&](const PacketKey& k, std::string_view l) { out->AddTruth(k, l); }, err) ||
      !ReadLabels(
          guess, [&](const PacketKey& k, std::string_view l) { out->AddGuess(k, l); }, err))
    return false;
  out->Finish();
  return true;
}

}  // namespace pcapml
