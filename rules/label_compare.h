// Two labelings of the same traffic compared packet by packet (`pcapml
// compare TRUTH GUESS`): which label the guess gave each packet the truth
// labeled, as a confusion matrix, and each label's precision and recall.
//
// Packets are joined by (timestamp in ns, original length, XXH3-64 of the
// captured bytes), not by position, so the two files may be in different
// orders (e.g. one of them sorted). Identical packets pair up in file order.
// A packet of one file that the other lacks (another snap length, a packet
// one capture dropped) is counted apart, under its own label.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pcapio/reader.h"

namespace pcapml {

// What a packet without a pcapml label (or with an empty one) counts as.
inline constexpr std::string_view kNoLabel = "<unlabeled>";

struct PacketKey {
  int64_t ts_ns = 0;
  uint64_t hash = 0;  // XXH3-64 of the captured bytes
  uint32_t orig_len = 0;
  auto operator<=>(const PacketKey&) const = default;
};

PacketKey KeyOf(const Packet& p);

// Labels of one side, numbered in order of first appearance.
class LabelNames {
 public:
  uint32_t Id(std::string_view label);
  const std::string& Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }
  std::optional<uint32_t> Find(std::string_view label) const;

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
};

class LabelComparison {
 public:
  // First every truth packet, then every guess packet.
  void AddTruth(const PacketKey& key, std::string_view label);
  void AddGuess(const PacketKey& key, std::string_view label);
  // Counts the truth packets no guess packet took. Call once, at the end.
  void Finish();

  const LabelNames& truth_labels() const { return truth_names_; }
  const LabelNames& guess_labels() const { return guess_names_; }
  // Packets the truth labeled t and the guess labeled g (ids of each side).
  uint64_t Cell(uint32_t t, uint32_t g) const;
  uint64_t TruthOnly(uint32_t t) const { return t < truth_only_.size() ? truth_only_[t] : 0; }
  uint64_t GuessOnly(uint32_t g) const { return g < guess_only_.size() ? guess_only_[g] : 0; }
  uint64_t matched() const { return matched_; }
  uint64_t truth_only() const { return truth_only_total_; }
  uint64_t guess_only() const { return guess_only_total_; }
  uint64_t agreed() const { return agreed_; }  // matched packets with the same label on both sides

  // Per label name, over matched packets: the truth's packets of it, the
  // guess's, those both gave it, and precision = correct / guessed and
  // recall = correct / truth (empty when the denominator is 0).
  struct LabelScore {
    std::string label;
    uint64_t truth = 0, guessed = 0, correct = 0;
    std::optional<double> precision, recall;
  };
  std::vector<LabelScore> Scores() const;  // by label name

 private:
  struct TruthPacket {  // 24 bytes: the memory compare needs per truth packet
    int64_t ts_ns;
    uint64_t hash;
    uint32_t orig_len;
    uint32_t label : 31;
    uint32_t taken : 1;
    PacketKey key() const { return {ts_ns, hash, orig_len}; }
  };
  void Seal();

  LabelNames truth_names_, guess_names_;
  std::vector<TruthPacket> truth_;  // sorted by key (stable: file order among equals) once sealed
  bool sealed_ = false, finished_ = false;
  std::unordered_map<uint64_t, uint64_t> cells_;  // truth id << 32 | guess id -> packets
  std::vector<uint64_t> truth_only_, guess_only_;
  uint64_t matched_ = 0, truth_only_total_ = 0, guess_only_total_ = 0, agreed_ = 0;
};

// Reads both files (pcap or pcapng) into *out. Errors name the file and
// byte offset.
bool CompareLabelFiles(const std::string& truth, const std::string& guess, LabelComparison* out, std::string* err);

}  // namespace pcapml
