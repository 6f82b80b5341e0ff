#include "base/toml_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "base/text_file.h"
#include "base/units.h"

namespace pcapml {
namespace {

// A TOML basic string.
std::string BasicString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04X", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void WriteValue(const toml::node& value, std::string* out) {
  if (const toml::table* t = value.as_table()) {
    *out += "{";
    bool first = true;
    for (auto&& [k, v] : *t) {
      *out += first ? " " : ", ";
      first = false;
      *out += BasicString(k.str()) + " = ";
      WriteValue(v, out);
    }
    *out += first ? "}" : " }";
  } else if (const toml::array* a = value.as_array()) {
    *out += "[";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) *out += ", ";
      WriteValue(*a->get(i), out);
    }
    *out += "]";
  } else if (const toml::value<std::string>* str = value.as_string()) {
    *out += BasicString(str->get());
  } else {  // numbers, booleans, dates and times: toml++ writes them as TOML
    std::ostringstream text;
    value.visit([&](const auto& v) { text << v; });
    *out += text.str();
  }
}

bool Why(std::string* why, std::string text) {
  *why = std::move(text);
  return false;
}

}  // namespace

bool ParseTomlText(const std::string& path, std::string_view text, toml::table* doc, std::string* err,
                   size_t* error_line) {
  try {
    *doc = toml::parse(WithLfLineEnds(text), path);  // TOML itself takes no lone CR
    return true;
  } catch (const toml::parse_error& e) {
    size_t line = e.source().begin.line;
    if (error_line) *error_line = line;
    *err = path + ":" + std::to_string(line) + ": " + std::string(e.description());
    return false;
  }
}

int TomlLine(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::string TomlText(const toml::node& n) {
  std::string out;
  WriteValue(n, &out);
  return out;
}

std::string TomlKeyValue(std::string_view key, const toml::node& value) {
  return BasicString(key) + " = " + TomlText(value);
}

bool TomlToString(const toml::node& n, std::string* out, std::string* why) {
  if (!n.is_string()) return Why(why, "must be a string");
  *out = n.as_string()->get();
  return true;
}

bool TomlToBool(const toml::node& n, bool* out, std::string* why) {
  if (!n.is_boolean()) return Why(why, "must be true or false");
  *out = n.as_boolean()->get();
  return true;
}

bool TomlToInteger(const toml::node& n, int64_t min, int64_t max, int64_t* out, std::string* why) {
  // Only integers: toml++ 3.3 casts a float such as 1e76 to int64_t unchecked
  // (UB; found by fuzz_daemon_config).
  if (n.is_integer() && n.as_integer()->get() >= min && n.as_integer()->get() <= max) {
    *out = n.as_integer()->get();
    return true;
  }
  if (min == 0 && max == std::numeric_limits<int64_t>::max()) return Why(why, "must be a non-negative integer");
  return Why(why, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
}

bool TomlToNumber(const toml::node& n, double* out, std::string* why) {
  if (auto v = n.value<double>(); v && std::isfinite(*v) && *v >= 0) {
    *out = *v;
    return true;
  }
  return Why(why, "must be a non-negative number");
}

bool TomlToSize(const toml::node& n, uint64_t* bytes, std::string* why) {
  if (n.is_integer() && n.as_integer()->get() >= 0) {
    *bytes = static_cast<uint64_t>(n.as_integer()->get());
    return true;
  }
  std::string problem;
  if (n.is_string() && ParseBytes(n.as_string()->get(), bytes, &problem)) return true;
  return Why(why, "must be a size such as \"64MiB\"" + (problem.empty() ? "" : ": " + problem));
}

bool TomlToDuration(const toml::node& n, int64_t* ns, std::string* why) {
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1'000'000'000;
  if (n.is_integer() && n.as_integer()->get() >= 0 && n.as_integer()->get() <= kMaxSeconds) {
    *ns = n.as_integer()->get() * 1'000'000'000;
    return true;
  }
  std::string problem;
  if (n.is_string() && ParseDuration(n.as_string()->get(), ns, &problem)) {
    if (*ns >= 0) return true;
    problem = "it is negative";
  }
  if (n.is_integer()) problem = n.as_integer()->get() < 0 ? "it is negative" : "it is too long";
  return Why(why, "must be a duration such as \"30s\"" + (problem.empty() ? "" : ": " + problem));
}

bool TomlToStringList(const toml::node& n, std::vector<std::string>* out, std::string* why) {
  if (!n.is_array()) return Why(why, "must be a list of strings");
  for (const toml::node& e : *n.as_array()) {
    if (!e.is_string()) return Why(why, "must be a list of strings");
    out->push_back(e.as_string()->get());
  }
  return true;
}

bool TomlToStringMap(const toml::node& n, std::vector<std::pair<std::string, std::string>>* out, std::string* why) {
  if (!n.is_table()) return Why(why, "must be a table of \"key\" = \"value\" strings");
  for (auto&& [k, e] : *n.as_table()) {
    if (!e.is_string()) return Why(why, "must be a table of \"key\" = \"value\" strings");
    out->emplace_back(std::string(k.str()), e.as_string()->get());
  }
  return true;
}

TomlTable::TomlTable(const toml::table& table, const std::string& file, std::string context, std::string* err)
    : table_(table), file_(file), context_(std::move(context)), err_(err) {
  entries_.reserve(table.size());
  for (const auto& [k, v] : table) entries_.push_back({k.str(), &v, false});
  asked_.reserve(16);
}

std::string TomlTable::Context() const { return named_ ? context_ + " " + Quoted(name_) : context_; }

const toml::node* TomlTable::Use(std::string_view key) {
  asked_.push_back(key);
  for (Entry& e : entries_) {
    if (e.key == key) {
      e.known = true;
      return e.node;
    }
  }
  return nullptr;
}

const toml::node* TomlTable::Find(std::string_view key) const {
  for (const Entry& e : entries_)
    if (e.key == key) return e.node;
  return nullptr;
}

bool TomlTable::Fail(const toml::node* at, std::string_view what) {
  *err_ = file_ + ":" + std::to_string(TomlLine(at ? *at : table_)) + ": " +
          (Context().empty() ? "" : Context() + ": ") + std::string(what);
  return false;
}

bool TomlTable::FailAt(std::string_view key, std::string_view what) { return Fail(Find(key), what); }

bool TomlTable::CheckText(const toml::node& at, std::string_view key, std::string_view value) {
  std::string problem = TextProblem(value);
  return problem.empty() || Fail(&at, std::string(key) + " " + problem + " " + Quoted(value));
}

bool TomlTable::Convert(std::string_view key, const toml::node* n, bool ok, const std::string& why) {
  return ok || Fail(n, std::string(key) + " " + why);
}

bool TomlTable::String(std::string_view key, std::string* out) {
  const toml::node* n = Use(key);
  if (!n) return true;
  std::string why;
  return Convert(key, n, TomlToString(*n, out, &why), why) && CheckText(*n, key, *out);
}

bool TomlTable::NonEmptyString(std::string_view key, std::string* out) {
  if (!String(key, out)) return false;
  const toml::node* n = Find(key);
  return !n || !out->empty() || Fail(n, std::string(key) + " must not be empty");
}

bool TomlTable::Bool(std::string_view key, bool* out) {
  const toml::node* n = Use(key);
  std::string why;
  return !n || Convert(key, n, TomlToBool(*n, out, &why), why);
}

bool TomlTable::Integer(std::string_view key, int64_t min, int64_t max, int64_t* out) {
  const toml::node* n = Use(key);
  std::string why;
  return !n || Convert(key, n, TomlToInteger(*n, min, max, out, &why), why);
}

bool TomlTable::Number(std::string_view key, double* out) {
  const toml::node* n = Use(key);
  std::string why;
  return !n || Convert(key, n, TomlToNumber(*n, out, &why), why);
}

bool TomlTable::Size(std::string_view key, uint64_t* bytes) {
  const toml::node* n = Use(key);
  std::string why;
  return !n || Convert(key, n, TomlToSize(*n, bytes, &why), why);
}

bool TomlTable::Duration(std::string_view key, int64_t* ns) {
  const toml::node* n = Use(key);
  std::string why;
  return !n || Convert(key, n, TomlToDuration(*n, ns, &why), why);
}

bool TomlTable::Seconds(std::string_view key, int64_t* seconds) {
  int64_t ns = 0;
  if (!Find(key)) return Use(key), true;
  if (!Duration(key, &ns)) return false;
  *seconds = ns / 1'000'000'000;
  return true;
}

bool TomlTable::StringList(std::string_view key, std::vector<std::string>* out) {
  const toml::node* n = Use(key);
  if (!n) return true;
  std::vector<std::string> list;
  std::string why;
  if (n->is_string())
    list.push_back(n->as_string()->get());
  else if (!TomlToStringList(*n, &list, &why))
    return Fail(n, std::string(key) + " " + why);
  for (size_t i = 0; i < list.size(); ++i)
    if (!CheckText(n->is_array() ? *n->as_array()->get(i) : *n, key, list[i])) return false;
  out->insert(out->end(), list.begin(), list.end());
  return true;
}

bool TomlTable::OneOf(std::string_view key, std::initializer_list<std::string_view> choices, std::string* out) {
  std::string value = *out;
  if (!String(key, &value)) return false;
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return *out = value, true;
  std::string list;
  size_t i = 0;
  for (std::string_view c : choices) {
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + BasicString(c);
    ++i;
  }
  return FailAt(key, std::string(key) + " must be " + list + ", not " + BasicString(value));
}

std::vector<std::string_view> TomlTable::Others() const {
  std::vector<std::string_view> others;
  for (const Entry& e : entries_)
    if (!e.known) others.push_back(e.key);
  return others;
}

bool TomlTable::NoOthers(std::string_view hint) {
  for (const Entry& e : entries_) {
    if (e.known) continue;
    std::string expected(hint);
    for (size_t i = 0; hint.empty() && i < asked_.size(); ++i) {
      if (std::find(asked_.begin(), asked_.begin() + i, asked_[i]) != asked_.begin() + i) continue;  // a repeat
      (expected += expected.empty() ? "expected " : ", ") += asked_[i];
    }
    return Fail(e.node, "unknown key " + Quoted(e.key) + (expected.empty() ? "" : " (" + expected + ")"));
  }
  return true;
}

std::string TomlTable::Origin(std::string_view key) const {
  const toml::node* n = Find(key);
  return file_ + ":" + std::to_string(TomlLine(n ? *n : table_)) + ": " + (Context().empty() ? "" : Context() + " ") +
         std::string(key);
}

}  // namespace pcapml
