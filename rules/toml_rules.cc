#include "rules/toml_rules.h"

#include <toml++/toml.h>

#include <charconv>

#include "base/text_file.h"
#include "base/toml_table.h"
#include "base/units.h"

namespace pcapml {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// A datetime with a UTC offset is exact; an epoch number or string follows
// the legacy rules (an integer covers its whole second).
bool ReadTime(TomlTable& r, const char* key, bool upper, int64_t* ns) {
  const toml::node* v = r.Use(key);
  if (!v) return true;
  std::string text;
  if (const auto* dt = v->as_date_time()) {
    const toml::date_time& t = dt->get();
    if (!t.offset) return r.Fail(v, std::string(key) + ": a datetime needs a UTC offset, e.g. 2024-05-01T08:00:00Z");
    int64_t secs = DaysFromCivil(t.date.year, t.date.month, t.date.day) * 86400 + t.time.hour * 3600 +
                   t.time.minute * 60 + t.time.second - t.offset->minutes * 60;
    if (secs < 0 || secs > 9'000'000'000LL) return r.Fail(v, std::string(key) + ": datetime out of range");
    *ns = secs * 1'000'000'000 + t.time.nanosecond;
    return true;
  }
  if (v->is_integer()) {
    text = std::to_string(v->as_integer()->get());
  } else if (v->is_floating_point()) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v->as_floating_point()->get(), std::chars_format::fixed);
    text.assign(buf, ec == std::errc() ? end : buf);
  } else if (v->is_string()) {
    text = v->as_string()->get();
  } else if (v->is_date() || v->is_time()) {
    return r.Fail(v, std::string(key) + ": give a full datetime with a UTC offset, e.g. 2024-05-01T08:00:00Z");
  }
  if (!ParseEpochBound(text, upper, ns))
    return r.Fail(v, std::string(key) + ": bad time (a datetime with offset, or epoch seconds such as 1714550400.25)");
  return true;
}

// A duration that must be more than 0 (a window, a flow's idle time).
bool ReadPositiveDuration(TomlTable& r, const char* key, int64_t* ns) {
  if (!r.Duration(key, ns)) return false;
  return !r.Find(key) || *ns > 0 || r.FailAt(key, std::string(key) + " must be longer than 0s");
}

// meta = { key = value }: strings, numbers and booleans, as text.
bool ReadMeta(TomlTable& r, std::vector<std::pair<std::string, std::string>>* meta) {
  const toml::node* v = r.Use("meta");
  if (!v) return true;
  const toml::table* t = v->as_table();
  if (!t) return r.Fail(v, "meta must be a table of key = value");
  for (auto&& [key, value] : *t) {
    std::string text;
    if (value.is_string()) {
      text = value.as_string()->get();
    } else if (value.is_integer()) {
      text = std::to_string(value.as_integer()->get());
    } else if (value.is_boolean()) {
      text = value.as_boolean()->get() ? "true" : "false";
    } else if (value.is_floating_point()) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value.as_floating_point()->get());
      text.assign(buf, end);
    } else {
      return r.Fail(&value, "meta." + Quoted(key.str()) + " must be a string, number or boolean");
    }
    meta->emplace_back(key.str(), std::move(text));
  }
  return true;
}

// One [[rule]] table. The strings' text is checked by BuildRule, which names
// the rule's id in its errors.
bool ReadRule(TomlTable& r, RuleSpec* spec) {
  const toml::node* id = r.Use("id");
  if (!id) return r.Fail(nullptr, "rule without id");
  if (!id->is_string() || id->as_string()->get().empty()) return r.Fail(id, "id must be a non-empty string");
  spec->id = id->as_string()->get();
  r.set_context("rule", spec->id);
  std::string sample = "rule";
  if (!r.NonEmptyString("label", &spec->label) || !r.String("filter", &spec->filter) ||
      !ReadTime(r, "start", false, &spec->window.first_ns) || !ReadTime(r, "end", true, &spec->window.last_ns) ||
      !ReadMeta(r, &spec->meta) || !r.OneOf("sample", {"rule", "flow", "window"}, &sample) ||
      !r.NonEmptyString("sample_key", &spec->sample_key) || !ReadPositiveDuration(r, "window", &spec->window_ns) ||
      !ReadPositiveDuration(r, "idle_timeout", &spec->idle_timeout_ns) || !r.NonEmptyString("plugin", &spec->plugin))
    return false;
  if (r.Find("sample")) ParseSampleMode(sample, &spec->sample);
  return r.NoOthers();
}

// The node of a setting BuildRule named ("label", "meta.<key>", ...), to point
// at its line; the rule's table when the setting is missing.
const toml::node& SettingNode(const toml::table& rule, const std::string& field) {
  const toml::node* n = rule.get(field);
  if (field.starts_with("meta.")) {
    const toml::table* meta = rule.get("meta") ? rule.get("meta")->as_table() : nullptr;
    n = meta ? meta->get(field.substr(5)) : nullptr;
  }
  return n ? *n : rule;
}

// The id of the [[rule]] around `line`, to name it in a syntax error.
std::string RuleAround(std::string_view text, size_t line) {
  std::string id;
  LineReader lines(text);
  for (std::string_view l; lines.Next(&l) && lines.line_number() <= line;) {
    size_t i = l.find_first_not_of(" \t");
    if (i == std::string_view::npos) continue;
    l.remove_prefix(i);
    if (l.starts_with("[[rule]]")) id.clear();
    size_t q1 = l.find('"'), q2 = q1 == std::string_view::npos ? q1 : l.find('"', q1 + 1);
    if (l.starts_with("id") && l.find('=') != std::string_view::npos && q2 != std::string_view::npos)
      id = std::string(l.substr(q1 + 1, q2 - q1 - 1));
  }
  return id;
}

}  // namespace

bool ParseTomlRules(const std::string& path, std::string_view text, const std::string& sensor_id, RuleSet* rules,
                    std::string* err) {
  toml::table doc;
  size_t line = 0;
  if (!ParseTomlText(path, text, &doc, err, &line)) {
    std::string id = RuleAround(text, line);  // name the rule around a syntax error
    if (!id.empty()) err->insert(path.size() + std::to_string(line).size() + 3, "rule " + Quoted(id) + ": ");
    return false;
  }
  TomlTable top(doc, path, "", err);
  top.Use("rule");
  top.Use("plugin");  // [[plugin]]: plugin_host/plugin_settings.h
  if (!top.NoOthers("a rules file holds [[rule]] and [[plugin]] tables")) return false;
  const toml::array* list = doc["rule"].as_array();
  if (!list || list->empty()) return *err = path + ": no rules (expected [[rule]] tables)", false;
  for (const toml::node& n : *list) {
    const toml::table* t = n.as_table();
    if (!t) return *err = path + ":" + std::to_string(TomlLine(n)) + ": rule must be a table ([[rule]])", false;
    TomlTable reader(*t, path, "", err);
    RuleSpec spec;
    spec.source = path + ":" + std::to_string(TomlLine(*t));
    if (!ReadRule(reader, &spec)) return false;
    if (const Rule* first = rules->Find(spec.id)) {
      bool here = first->source.rfind(path + ":", 0) == 0;
      return reader.Fail(&SettingNode(*t, "id"),
                         "duplicate id (first defined at " +
                             (here ? "line " + first->source.substr(path.size() + 1) : first->source) + ")");
    }
    Rule rule;
    std::string why, field;
    if (!BuildRule(std::move(spec), sensor_id, &rule, &why, &field)) return reader.Fail(&SettingNode(*t, field), why);
    std::string prefix = DescribeRule(rule) + ": ";  // Add's errors start with it
    if (!rules->Add(std::move(rule), err)) {
      // BuildRule checked the rest: Add fails on the filter's syntax (or on
      // the metadata's length, the rule's as a whole): point at the filter.
      if (err->starts_with(prefix + "invalid BPF filter"))
        reader.Fail(&SettingNode(*t, "filter"), err->substr(prefix.size()));
      return false;
    }
  }
  return true;
}

}  // namespace pcapml
