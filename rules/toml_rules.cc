#include "rules/toml_rules.h"

#include <toml++/toml.h>

#include <charconv>

#include "base/text_file.h"
#include "base/units.h"

namespace pcapml {
namespace {

std::string Line(const toml::node& n) { return std::to_string(n.source().begin.line); }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

class RuleReader {
 public:
  RuleReader(const std::string& path, const toml::table& t, std::string* err) : path_(path), t_(t), err_(err) {}

  bool Read(RuleSpec* spec) {
    spec->source = path_ + ":" + Line(t_);
    if (const toml::node* id = t_.get("id")) {
      if (!id->is_string() || id->as_string()->get().empty()) return Fail(*id, "id must be a non-empty string");
      spec->id = id_ = id->as_string()->get();
    } else {
      return Fail(t_, "rule without id");
    }
    for (auto&& [key, value] : t_)
      if (!Field(std::string(key.str()), value, spec)) return false;
    return true;
  }

  bool Fail(const toml::node& n, const std::string& what) {
    *err_ = path_ + ":" + Line(n) + ": " + (id_.empty() ? "" : "rule " + Quoted(id_) + ": ") + what;
    return false;
  }

 private:
  bool Field(const std::string& key, const toml::node& v, RuleSpec* spec) {
    if (key == "id") return true;
    if (key == "label") return String(key, v, &spec->label, false);
    if (key == "filter") return String(key, v, &spec->filter, true);
    if (key == "sample_key") return String(key, v, &spec->sample_key, false);
    if (key == "start") return Time(key, v, false, &spec->window.first_ns);
    if (key == "end") return Time(key, v, true, &spec->window.last_ns);
    if (key == "window") return Duration(key, v, &spec->window_ns);
    if (key == "idle_timeout") return Duration(key, v, &spec->idle_timeout_ns);
    if (key == "meta") return Meta(v, &spec->meta);
    if (key == "sample") {
      std::string mode;
      if (!String(key, v, &mode, false)) return false;
      if (!ParseSampleMode(mode, &spec->sample))
        return Fail(v, "sample must be \"rule\", \"flow\" or \"window\", not \"" + mode + "\"");
      return true;
    }
    if (key == "plugin") return String(key, v, &spec->plugin, false);
    return Fail(v, "unknown key " + Quoted(key) +
                       " (expected id, label, filter, start, end, meta, sample, "
                       "sample_key, window, idle_timeout, plugin)");
  }

  bool String(const std::string& key, const toml::node& v, std::string* out, bool empty_ok) {
    if (!v.is_string()) return Fail(v, key + " must be a string");
    *out = v.as_string()->get();
    if (out->empty() && !empty_ok) return Fail(v, key + " must not be empty");
    return true;
  }

  bool Duration(const std::string& key, const toml::node& v, int64_t* ns) {
    std::string text, why;
    if (v.is_integer())
      text = std::to_string(v.as_integer()->get());
    else if (v.is_string())
      text = v.as_string()->get();
    else
      return Fail(v, key + " must be a duration such as \"60s\"");
    if (!ParseDuration(text, ns, &why) || *ns <= 0) return Fail(v, key + ": bad duration '" + text + "'");
    return true;
  }

  // A datetime with a UTC offset is exact; an epoch number or string follows
  // the legacy rules (an integer covers its whole second).
  bool Time(const std::string& key, const toml::node& v, bool upper, int64_t* ns) {
    std::string text;
    if (const auto* dt = v.as_date_time()) {
      const toml::date_time& t = dt->get();
      if (!t.offset) return Fail(v, key + ": a datetime needs a UTC offset, e.g. 2024-05-01T08:00:00Z");
      int64_t secs = DaysFromCivil(t.date.year, t.date.month, t.date.day) * 86400 + t.time.hour * 3600 +
                     t.time.minute * 60 + t.time.second - t.offset->minutes * 60;
      if (secs < 0 || secs > 9'000'000'000LL) return Fail(v, key + ": datetime out of range");
      *ns = secs * 1'000'000'000 + t.time.nanosecond;
      return true;
    }
    if (v.is_integer()) {
      text = std::to_string(v.as_integer()->get());
    } else if (v.is_floating_point()) {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.as_floating_point()->get(), std::chars_format::fixed);
      text.assign(buf, ec == std::errc() ? end : buf);
    } else if (v.is_string()) {
      text = v.as_string()->get();
    } else if (v.is_date() || v.is_time()) {
      return Fail(v, key + ": give a full datetime with a UTC offset, e.g. 2024-05-01T08:00:00Z");
    }
    if (!ParseEpochBound(text, upper, ns))
      return Fail(v, key + ": bad time (a datetime with offset, or epoch seconds such as 1714550400.25)");
    return true;
  }

  bool Meta(const toml::node& v, std::vector<std::pair<std::string, std::string>>* meta) {
    const toml::table* t = v.as_table();
    if (!t) return Fail(v, "meta must be a table of key = value");
    for (auto&& [key, value] : *t) {
      std::string text;
      if (value.is_string())
        text = value.as_string()->get();
      else if (value.is_integer())
        text = std::to_string(value.as_integer()->get());
      else if (value.is_boolean())
        text = value.as_boolean()->get() ? "true" : "false";
      else if (value.is_floating_point()) {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value.as_floating_point()->get());
        text.assign(buf, end);
      } else {
        return Fail(value, "meta." + Quoted(key.str()) + " must be a string, number or boolean");
      }
      meta->emplace_back(key.str(), std::move(text));
    }
    return true;
  }

  const std::string& path_;
  const toml::table& t_;
  std::string* err_;
  std::string id_;
};

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
  try {
    doc = toml::parse(WithLfLineEnds(text), path);  // TOML itself takes no lone CR
  } catch (const toml::parse_error& e) {
    size_t line = e.source().begin.line;
    std::string id = RuleAround(text, line);
    *err = path + ":" + std::to_string(line) + ": " + (id.empty() ? "" : "rule " + Quoted(id) + ": ") +
           std::string(e.description());
    return false;
  }
  for (auto&& [key, value] : doc)
    if (key.str() != "rule" && key.str() != "plugin")  // [[plugin]]: plugins/plugin_settings.h
      return *err = path + ":" + Line(value) + ": unknown key " + Quoted(key.str()) +
                    " (a rules file holds [[rule]] and [[plugin]] tables)",
             false;
  const toml::array* list = doc["rule"].as_array();
  if (!list || list->empty()) return *err = path + ": no rules (expected [[rule]] tables)", false;
  for (const toml::node& n : *list) {
    const toml::table* t = n.as_table();
    if (!t) return *err = path + ":" + Line(n) + ": rule must be a table ([[rule]])", false;
    RuleReader reader(path, *t, err);
    RuleSpec spec;
    if (!reader.Read(&spec)) return false;
    if (const Rule* first = rules->Find(spec.id)) {
      bool here = first->source.rfind(path + ":", 0) == 0;
      return reader.Fail(SettingNode(*t, "id"),
                         "duplicate id (first defined at " +
                             (here ? "line " + first->source.substr(path.size() + 1) : first->source) + ")");
    }
    Rule rule;
    std::string why, field;
    if (!BuildRule(std::move(spec), sensor_id, &rule, &why, &field)) return reader.Fail(SettingNode(*t, field), why);
    std::string prefix = DescribeRule(rule) + ": ";  // Add's errors start with it
    if (!rules->Add(std::move(rule), err)) {
      // BuildRule checked the rest: Add fails on the filter's syntax (or on
      // the metadata's length, the rule's as a whole): point at the filter.
      if (err->starts_with(prefix + "invalid BPF filter"))
        reader.Fail(SettingNode(*t, "filter"), err->substr(prefix.size()));
      return false;
    }
  }
  return true;
}

}  // namespace pcapml
