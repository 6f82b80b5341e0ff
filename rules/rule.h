// The rule model shared by every rules format: a packet gets the label of
// the first rule that matches it (docs/format.md: Rules). A RuleSet classifies packets
// with indexes (rules/matcher.h) yet answers exactly as trying every rule's
// BPF filter in order would; rules can be added and removed while it runs.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rules/flow_table.h"
#include "rules/matcher.h"

namespace pcapml {

enum class SampleMode : uint8_t {
  kRule,    // every packet of the rule is one sample
  kFlow,    // one sample per bidirectional 5-tuple (ended by idle_timeout)
  kWindow,  // one sample per window_ns of time, aligned to the epoch
};

struct Rule {
  std::string id;        // unique in a set; legacy rules: "<file>:<line>"
  std::string source;    // "<file>:<line>" that defined it, for messages
  std::string metadata;  // "<label>[,key=value...]"
  std::string filter;    // libpcap filter expression; empty: every packet
  TimeWindow window;
  std::vector<std::string> files;  // FILE: terms; empty = any input
  // A plugin rule: its filter only pre-filters, the plugin instance of this
  // name gives the label (metadata then holds just ",key=value" meta), and
  // classify/rule_chain.h classifies it. A RuleSet alone treats it as any rule.
  std::string plugin;
  SampleMode sample = SampleMode::kRule;
  int64_t window_ns = 0;        // kWindow: window length
  int64_t idle_timeout_ns = 0;  // kFlow: silence that ends a flow
  // Set by SetSampleKey (RuleSet::Add uses the id when unset):
  std::string key;  // sample key (docs/format.md: Sample IDs), sensor prefix included
  uint64_t sample_id = 0;
  std::string comment;   // "<sampleID>,<metadata>"
  uint64_t packets = 0;  // matched so far; RuleSet::rule() and Find() bring it up to date
};

// One rule's settings as a user gives them (a TOML [[rule]] table, the
// daemon's control socket), before BuildRule turns them into a Rule.
struct RuleSpec {
  std::string id, label, filter, sample_key;
  std::string plugin;                                     // a plugin rule: no label, sample = rule
  std::string source;                                     // "<file>:<line>", for messages
  std::vector<std::pair<std::string, std::string>> meta;  // written sorted by key
  TimeWindow window;
  SampleMode sample = SampleMode::kRule;
  int64_t window_ns = 0;        // required for kWindow
  int64_t idle_timeout_ns = 0;  // kFlow; 0: kDefaultIdleTimeoutNs
};

constexpr int64_t kDefaultIdleTimeoutNs = 60'000'000'000;

// Checks the text (UTF-8 without NUL everywhere; no ',' or line breaks in
// label and meta, meta keys without '=') and the sample settings, and fills
// *rule: metadata "<label>[,key=value...]" with meta keys sorted, sample key
// sample_key or id, prefixed "<sensor_id>/" when set. Does not check the
// filter's syntax (Add does). On failure *field, when given, names the
// setting at fault ("label", "window", "meta.<key>", ...) for the caller to
// point at.
bool BuildRule(RuleSpec spec, const std::string& sensor_id, Rule* rule, std::string* err, std::string* field = nullptr);

// "rule", "flow" or "window".
bool ParseSampleMode(std::string_view text, SampleMode* mode);

// Sets rule->key, sample_id and comment from key.
void SetSampleKey(Rule* rule, std::string key);

// "file:line: rule 'id'" (or what of it is known), to prefix messages.
std::string DescribeRule(const Rule& rule);

struct Verdict {
  const Rule* rule = nullptr;  // null: no rule matched
  uint64_t sample_id = 0;
  std::string_view comment;  // "<sampleID>,<metadata>"; valid until the next Classify
};

struct SampleOptions {
  size_t max_flows = 1 << 18;  // flows tracked at once; the least recent is evicted beyond
  // Keep the IDs of the window samples seen, for RuleSetStats::window_samples
  // (8 bytes and a hash node per window per rule: for offline runs, not for a
  // daemon that runs for months).
  bool count_windows = false;
};

struct RuleSetStats {
  uint64_t indexed_packets = 0;  // classified through the indexes
  uint64_t linear_packets = 0;   // classified by trying BPF rule by rule
  FlowStats flows;
  uint64_t window_samples = 0;  // distinct (rule, window) samples seen, with count_windows
};

class RuleSet {
 public:
  explicit RuleSet(SampleOptions options = {});
  ~RuleSet();
  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;

  // Appends a rule (last = tried last). Fails, changing nothing, on a
  // duplicate id, bad sample settings, or a filter libpcap rejects.
  bool Add(Rule rule, std::string* err);

  // Removes a rule; its flows end. Verdicts and Rule pointers from before
  // are invalid afterwards. False if no rule has this id.
  // Add and Remove cost O(log n) rules rebuilt (amortized), not O(n): see
  // Segment below.
  bool Remove(std::string_view id);

  // Compiles every filter for link_type and builds its indexes; the error
  // names the rule. Classify needs it for each link type it meets.
  bool Prepare(uint16_t link_type, std::string* err);

  // Tells rules with FILE: terms which input the next packets come from.
  void SetInput(const std::string& path);

  // The first matching rule and the packet's sample. No allocation once
  // warmed up (a new flow reuses an old flow's buffers).
  Verdict Classify(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len);
  // As Classify, with only the rules from position `first` on: a plugin
  // rule that had no opinion hands the packet on (classify/rule_chain.h).
  // O(size()) per call.
  Verdict ClassifyFrom(size_t first, uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                       uint32_t orig_len);

  size_t size() const { return entries_.size() - removed_; }
  // The i-th rule in order: O(1), or O(n) after Remove until the set
  // compacts itself (ForEachRule visits them all in O(n)).
  const Rule& rule(size_t i) const;
  const Rule* Find(std::string_view id) const;
  // Calls fn(const Rule&) for every rule, in order.
  template <typename Fn>
  void ForEachRule(Fn&& fn) const {
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (!rules_[i]) continue;
      SyncPackets(i);
      fn(*rules_[i]);
    }
  }
  RuleSetStats stats() const;
  // Memory held by the indexes of every prepared link type (bytes).
  size_t index_bytes() const;

 private:
  struct WindowSample {
    int64_t start_ns = std::numeric_limits<int64_t>::min();
    uint64_t sample_id = 0;
    std::string comment;
  };
  struct Entry {
    std::unique_ptr<Rule> rule;        // null: removed (the entry keeps its place until Compact)
    std::unique_ptr<BpfFilter> bpf;    // null: no filter
    std::unique_ptr<FilterExpr> expr;  // null: outside the subset libpcap-free evaluation knows
    uint32_t serial = 0;               // stable across Add/Remove: keys flows
    uint64_t folded_packets = 0;       // matched by matchers since rebuilt
    WindowSample window;
  };

  // The matchers of entries_[begin, end), one per prepared_ link type (same
  // order); together the segments cover entries_ in order, so the first
  // segment with a match holds the first matching rule. Each added rule gets
  // a segment of its own, merged with the last ones while they are not
  // larger (a binary counter: sizes are distinct powers of two). So an add
  // rebuilds O(log n) rules amortized, not all n, and a packet tries at most
  // log2(n) + 1 segments; a set loaded whole and then prepared has one.
  struct Segment {
    uint32_t begin = 0, end = 0;
    std::vector<std::unique_ptr<LinkMatcher>> matchers;
  };

  int TypeIndex(uint16_t link_type);
  Segment BuildSegment(uint32_t begin, uint32_t end) const;
  void AppendSegment();
  void Fold(const Segment& s);
  void RebuildAll();
  void Compact();
  void SyncPackets(size_t i) const;
  bool InputAllowed(const Rule& rule) const;
  void FlowSample(Entry& e, uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, Verdict* v);
  void WindowSampleOf(Entry& e, int64_t ts_ns, Verdict* v);
  Verdict ClassifyWith(const char* enabled, uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                       uint32_t orig_len);

  std::vector<Entry> entries_;
  std::vector<Rule*> rules_;  // entries_[i].rule, compact for the per-packet path
  size_t removed_ = 0;        // entries_ without a rule; Compact drops them once they are half
  std::unordered_map<std::string, size_t> by_id_;
  std::vector<char> input_ok_;  // 0 for removed entries too
  std::vector<char> from_ok_;   // ClassifyFrom's input_ok_
  std::string input_;
  std::vector<uint16_t> prepared_;
  std::vector<Segment> segments_;  // empty until a link type is prepared
  int last_type_ = -1;             // TypeIndex's last answer, for last_link_
  uint16_t last_link_ = 0;
  uint64_t indexed_before_ = 0, linear_before_ = 0;  // counts of matchers rebuilt since
  uint32_t next_serial_ = 0;
  FlowTable flows_;
  bool count_windows_;
  std::unordered_set<uint64_t> windows_seen_;  // sample IDs, with count_windows
  std::string scratch_;
};

}  // namespace pcapml
