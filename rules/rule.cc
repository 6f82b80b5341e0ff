#include "rules/rule.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "base/text_file.h"
#include "rules/sample_id.h"

namespace pcapml {
namespace {

void FormatComment(uint64_t sample_id, std::string_view metadata, std::string* out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, sample_id);
  out->assign(digits, end);
  out->push_back(',');
  out->append(metadata);
}

int64_t WindowStart(int64_t ts_ns, int64_t window_ns) {
  int64_t r = ts_ns % window_ns, start;
  // The first window of int64 time starts before its beginning: clamp.
  if (__builtin_sub_overflow(ts_ns, r < 0 ? r + window_ns : r, &start)) return INT64_MIN;
  return start;
}

}  // namespace

void SetSampleKey(Rule* rule, std::string key) {
  rule->key = std::move(key);
  rule->sample_id = SampleId(rule->key);
  FormatComment(rule->sample_id, rule->metadata, &rule->comment);
}

bool ParseSampleMode(std::string_view text, SampleMode* mode) {
  if (text == "rule") return *mode = SampleMode::kRule, true;
  if (text == "flow") return *mode = SampleMode::kFlow, true;
  if (text == "window") return *mode = SampleMode::kWindow, true;
  return false;
}

bool BuildRule(RuleSpec spec, const std::string& sensor_id, Rule* rule, std::string* err, std::string* field) {
  std::string unused;
  if (!field) field = &unused;
  auto fail = [&](std::string key, const std::string& why) { return *field = std::move(key), *err = why, false; };
  // Text that reaches comments or libpcap: a NUL would cut it short, and a
  // comment is UTF-8.
  auto text = [&](const std::string& key, const std::string& what, const std::string& value) {
    std::string problem = TextProblem(value);
    return problem.empty() || fail(key, what + " " + problem + " " + Quoted(value));
  };
  auto bad_text = [](std::string_view s) { return s.find_first_of(",\r\n") != std::string_view::npos; };
  if (spec.id.empty()) return fail("id", "a rule needs an id");
  const std::pair<const char*, const std::string*> texts[] = {{"id", &spec.id},
                                                              {"label", &spec.label},
                                                              {"filter", &spec.filter},
                                                              {"sample_key", &spec.sample_key},
                                                              {"plugin", &spec.plugin}};
  for (auto [key, value] : texts)
    if (!text(key, key, *value)) return false;
  for (const auto& [k, v] : spec.meta)
    if (!text("meta." + k, "meta key", k) || !text("meta." + k, "meta value of " + Quoted(k), v)) return false;
  if (!spec.plugin.empty() && !spec.label.empty())
    return fail("label", "a plugin rule takes its label from the plugin: drop label");
  if (!spec.plugin.empty() && (spec.sample != SampleMode::kRule || !spec.sample_key.empty()))
    return fail(spec.sample_key.empty() ? "sample" : "sample_key",
                "a plugin rule takes its samples from the plugin: drop sample and sample_key");
  if (spec.label.empty() && spec.plugin.empty()) return fail("label", "a rule needs a label");
  if (bad_text(spec.label)) return fail("label", "label must not contain ',' or a line break");
  std::sort(spec.meta.begin(), spec.meta.end());
  for (size_t i = 0; i < spec.meta.size(); ++i) {
    const auto& [k, v] = spec.meta[i];
    if (k.empty() || bad_text(k) || k.find('=') != std::string::npos)
      return fail("meta." + k, "meta key '" + k + "' must be non-empty, without ',', '=' or a line break");
    if (bad_text(v)) return fail("meta." + k, "meta value of '" + k + "' must not contain ',' or a line break");
    if (i && spec.meta[i - 1].first == k) return fail("meta." + k, "meta key '" + k + "' given twice");
  }
  if (spec.sample != SampleMode::kWindow && spec.window_ns)
    return fail("window", "window is only for sample = \"window\"");
  if (spec.sample == SampleMode::kWindow && spec.window_ns <= 0)
    return fail("sample", "sample = \"window\" needs a positive window (e.g. window = \"60s\")");
  if (spec.sample != SampleMode::kFlow && spec.idle_timeout_ns)
    return fail("idle_timeout", "idle_timeout is only for sample = \"flow\"");
  if (spec.idle_timeout_ns < 0) return fail("idle_timeout", "idle_timeout must be positive");
  if (spec.window.first_ns > spec.window.last_ns) return fail("start", "start is after end");
  Rule r;
  r.id = std::move(spec.id);
  r.source = std::move(spec.source);
  r.metadata = std::move(spec.label);
  for (const auto& [k, v] : spec.meta) r.metadata += "," + k + "=" + v;
  r.filter = std::move(spec.filter);
  r.plugin = std::move(spec.plugin);
  r.window = spec.window;
  r.sample = spec.sample;
  r.window_ns = spec.window_ns;
  r.idle_timeout_ns =
      spec.sample == SampleMode::kFlow && !spec.idle_timeout_ns ? kDefaultIdleTimeoutNs : spec.idle_timeout_ns;
  std::string key = sensor_id.empty() ? "" : sensor_id + "/";
  key += spec.sample_key.empty() ? r.id : spec.sample_key;
  SetSampleKey(&r, std::move(key));
  *rule = std::move(r);
  return true;
}

std::string DescribeRule(const Rule& rule) {
  if (rule.id == rule.source || rule.id.empty()) return rule.source;
  return (rule.source.empty() ? "" : rule.source + ": ") + "rule '" + rule.id + "'";
}

RuleSet::RuleSet(SampleOptions options) : flows_(options.max_flows), count_windows_(options.count_windows) {}
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;

bool RuleSet::Add(Rule rule, std::string* err) {
  auto fail = [&](const std::string& what) { return *err = DescribeRule(rule) + ": " + what, false; };
  if (by_id_.count(rule.id)) return fail("duplicate rule id '" + rule.id + "'");
  if (rule.sample == SampleMode::kWindow && rule.window_ns <= 0) return fail("window must be positive");
  if (rule.sample == SampleMode::kFlow && rule.idle_timeout_ns <= 0) return fail("idle_timeout must be positive");
  if (rule.window.first_ns > rule.window.last_ns) return fail("start is after end");
  if (rule.metadata.size() > 60000) return fail("metadata longer than 60000 bytes");  // pcapng options are < 64 KiB
  Entry e;
  if (!rule.filter.empty()) {
    e.bpf = std::make_unique<BpfFilter>(rule.filter);
    e.expr = std::make_unique<FilterExpr>();
    if (!ParseFilterExpr(rule.filter, e.expr.get())) e.expr.reset();
    std::string why;
    // Check the syntax now (Ethernet), so a typo fails before anything is
    // written; a filter meant for another link layer is checked when that one
    // is met. The subset FilterExpr evaluates needs no BPF program.
    if (NeedsBpf(e.expr.get(), 1) && !e.bpf->Prepare(1, &why) && why.find("link") == std::string::npos)
      return fail("invalid BPF filter '" + rule.filter + "': " + why);
    for (uint16_t lt : prepared_)
      if (NeedsBpf(e.expr.get(), lt) && !e.bpf->Prepare(lt, &why))
        return fail("invalid BPF filter '" + rule.filter + "' for link type " + std::to_string(lt) + ": " + why);
  }
  if (rule.comment.empty()) SetSampleKey(&rule, rule.key.empty() ? rule.id : rule.key);
  e.serial = next_serial_++;
  e.rule = std::make_unique<Rule>(std::move(rule));
  by_id_[e.rule->id] = entries_.size();
  rules_.push_back(e.rule.get());
  input_ok_.push_back(InputAllowed(*e.rule));
  entries_.push_back(std::move(e));
  if (!prepared_.empty()) AppendSegment();  // else Prepare builds: keeps loading n rules O(n)
  return true;
}

bool RuleSet::Remove(std::string_view id) {
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return false;
  size_t i = it->second;
  by_id_.erase(it);
  // The entry keeps its place (disabled, never a candidate) so that no
  // matcher needs rebuilding; Compact drops such entries once they are half.
  Entry& e = entries_[i];
  if (e.rule->sample == SampleMode::kFlow) flows_.ForgetRule(e.serial);
  e = Entry{};
  rules_[i] = nullptr;
  input_ok_[i] = 0;
  ++removed_;
  if (removed_ * 2 > entries_.size()) Compact();
  return true;
}

bool RuleSet::Prepare(uint16_t link_type, std::string* err) {
  if (TypeIndex(link_type) >= 0) return true;
  for (Entry& e : entries_) {
    std::string why;
    if (e.bpf && NeedsBpf(e.expr.get(), link_type) && !e.bpf->Prepare(link_type, &why)) {
      *err = DescribeRule(*e.rule) + ": invalid BPF filter '" + e.rule->filter + "' for link type " +
             std::to_string(link_type) + ": " + why;
      return false;
    }
  }
  prepared_.push_back(link_type);
  RebuildAll();
  return true;
}

RuleSet::Segment RuleSet::BuildSegment(uint32_t begin, uint32_t end) const {
  std::vector<MatchRule> rules;
  rules.reserve(end - begin);
  for (uint32_t i = begin; i < end; ++i) {
    const Entry& e = entries_[i];
    if (!e.rule) {
      rules.emplace_back();  // removed: no rule
      continue;
    }
    const Rule& r = *e.rule;
    rules.push_back(
        {e.expr.get(), e.bpf.get(), r.window, e.rule.get(), r.sample_id, r.comment, static_cast<uint8_t>(r.sample)});
  }
  Segment s{begin, end, {}};
  for (uint16_t lt : prepared_) s.matchers.push_back(std::make_unique<LinkMatcher>(lt, rules));
  return s;
}

void RuleSet::AppendSegment() {
  auto end = static_cast<uint32_t>(entries_.size()), begin = end - 1;
  while (!segments_.empty() && segments_.back().end - segments_.back().begin <= end - begin) {
    begin = segments_.back().begin;
    Fold(segments_.back());
    segments_.pop_back();
  }
  segments_.push_back(BuildSegment(begin, end));
}

// Moves a segment's counts into entries_ before its matchers go.
void RuleSet::Fold(const Segment& s) {
  for (const auto& m : s.matchers) {
    indexed_before_ += m->indexed_packets(), linear_before_ += m->linear_packets();
    for (size_t j = 0; j < m->size(); ++j) entries_[s.begin + j].folded_packets += m->packets(j);
  }
}

void RuleSet::RebuildAll() {
  for (const Segment& s : segments_) Fold(s);
  segments_.clear();
  if (!prepared_.empty() && !entries_.empty())
    segments_.push_back(BuildSegment(0, static_cast<uint32_t>(entries_.size())));
}

// Drops removed entries (positions change) into fresh containers, so the
// memory of many removed rules goes back to the allocator.
void RuleSet::Compact() {
  for (const Segment& s : segments_) Fold(s);
  segments_.clear();
  std::vector<Entry> entries;
  std::vector<Rule*> rules;
  std::vector<char> ok;
  entries.reserve(entries_.size() - removed_);
  rules.reserve(entries.capacity());
  ok.reserve(entries.capacity());
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].rule) continue;
    rules.push_back(entries_[i].rule.get());
    ok.push_back(input_ok_[i]);
    entries.push_back(std::move(entries_[i]));
  }
  entries_ = std::move(entries);
  rules_ = std::move(rules);
  input_ok_ = std::move(ok);
  from_ok_ = {};
  removed_ = 0;
  by_id_ = {};
  by_id_.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) by_id_.emplace(entries_[i].rule->id, i);
  RebuildAll();
}

void RuleSet::SyncPackets(size_t i) const {
  uint64_t n = entries_[i].folded_packets;
  auto s = std::upper_bound(segments_.begin(), segments_.end(), i,
                            [](size_t pos, const Segment& seg) { return pos < seg.end; });
  if (s != segments_.end())
    for (const auto& m : s->matchers) n += m->packets(i - s->begin);
  rules_[i]->packets = n;
}

const Rule& RuleSet::rule(size_t i) const {
  size_t at = i;
  for (size_t seen = 0, j = 0; removed_ && j < entries_.size(); ++j)  // skip removed entries
    if (rules_[j] && seen++ == i) {
      at = j;
      break;
    }
  SyncPackets(at);
  return *rules_[at];
}

int RuleSet::TypeIndex(uint16_t link_type) {
  if (last_type_ >= 0 && last_link_ == link_type) return last_type_;
  for (size_t t = 0; t < prepared_.size(); ++t)
    if (prepared_[t] == link_type) return last_link_ = link_type, last_type_ = static_cast<int>(t);
  return -1;
}

bool RuleSet::InputAllowed(const Rule& rule) const {
  namespace fs = std::filesystem;
  if (rule.files.empty()) return true;
  for (const std::string& f : rule.files) {
    std::error_code ec;
    if (f == input_ || fs::path(input_).filename() == f || fs::equivalent(f, input_, ec)) return true;
  }
  return false;
}

void RuleSet::SetInput(const std::string& path) {
  input_ = path;
  for (size_t i = 0; i < entries_.size(); ++i) input_ok_[i] = rules_[i] && InputAllowed(*rules_[i]);
}

const Rule* RuleSet::Find(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return nullptr;
  SyncPackets(it->second);
  return entries_[it->second].rule.get();
}

Verdict RuleSet::Classify(uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t orig_len) {
  return ClassifyWith(input_ok_.data(), link_type, ts_ns, data, caplen, orig_len);
}

Verdict RuleSet::ClassifyFrom(size_t first, uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                              uint32_t orig_len) {
  if (first >= entries_.size()) return {};
  from_ok_.assign(input_ok_.begin(), input_ok_.end());
  std::fill(from_ok_.begin(), from_ok_.begin() + static_cast<ptrdiff_t>(first), 0);
  return ClassifyWith(from_ok_.data(), link_type, ts_ns, data, caplen, orig_len);
}

Verdict RuleSet::ClassifyWith(const char* enabled, uint16_t link_type, int64_t ts_ns, const uint8_t* data,
                              uint32_t caplen, uint32_t orig_len) {
  int t = TypeIndex(link_type);
  if (t < 0) return {};
  for (Segment& s : segments_) {
    LinkMatcher::Hit* l = s.matchers[static_cast<size_t>(t)]->Match(ts_ns, data, caplen, orig_len, enabled + s.begin);
    if (!l) continue;
    Verdict v{l->rule, l->sample_id, l->comment()};
    Entry& e = entries_[s.begin + l->index];
    auto mode = static_cast<SampleMode>(l->sample_mode);
    if (mode == SampleMode::kFlow) FlowSample(e, link_type, ts_ns, data, caplen, &v);
    if (mode == SampleMode::kWindow) WindowSampleOf(e, ts_ns, &v);
    return v;
  }
  return {};
}

void RuleSet::FlowSample(Entry& e, uint16_t link_type, int64_t ts_ns, const uint8_t* data, uint32_t caplen,
                         Verdict* v) {
  FlowKey key;
  key.rule = e.serial;
  if (!DecodeFlow(link_type, data, caplen, &key)) return;  // not IP: the rule's own sample
  bool is_new;
  FlowTable::Flow& f = flows_.Touch(key, ts_ns, e.rule->idle_timeout_ns, &is_new);
  if (is_new) {
    scratch_.assign(e.rule->key);
    scratch_.push_back('|');
    AppendFlowSuffix(key, f.start_ns, &scratch_);
    f.sample_id = SampleId(scratch_);
    FormatComment(f.sample_id, e.rule->metadata, &f.comment);
  }
  v->sample_id = f.sample_id;
  v->comment = f.comment;
}

void RuleSet::WindowSampleOf(Entry& e, int64_t ts_ns, Verdict* v) {
  WindowSample& w = e.window;
  int64_t start = WindowStart(ts_ns, e.rule->window_ns);
  if (start != w.start_ns) {
    w.start_ns = start;
    scratch_.assign(e.rule->key);
    scratch_.push_back('|');
    scratch_.append(std::to_string(start));
    w.sample_id = SampleId(scratch_);
    FormatComment(w.sample_id, e.rule->metadata, &w.comment);
    if (count_windows_) windows_seen_.insert(w.sample_id);
  }
  v->sample_id = w.sample_id;
  v->comment = w.comment;
}

RuleSetStats RuleSet::stats() const {
  RuleSetStats s{indexed_before_, linear_before_, {}, 0};
  for (const Segment& seg : segments_)
    for (const auto& m : seg.matchers)
      s.indexed_packets += m->indexed_packets(), s.linear_packets += m->linear_packets();
  s.flows = flows_.stats();
  s.window_samples = windows_seen_.size();
  return s;
}

size_t RuleSet::index_bytes() const {
  size_t n = 0;
  for (const Segment& s : segments_)
    for (const auto& m : s.matchers) n += m->index().bytes();
  return n;
}

}  // namespace pcapml
