// Reading the TOML users write (the daemon config, rules files, [[plugin]]
// settings) one way: a parse that names file and line, typed getters for the
// forms users write (sizes and durations with units), unknown keys refused,
// and every error one line, "<file>:<line>: <table>: <key> <problem>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

namespace pcapml {

// Parses a whole TOML document read from `path` (any line ends, a BOM).
// A syntax error fills *err as "<path>:<line>: <description>" and, when
// error_line is given, its line.
bool ParseTomlText(const std::string& path, std::string_view text, toml::table* doc, std::string* err,
                   size_t* error_line = nullptr);

// The 1-based line a node starts on.
int TomlLine(const toml::node& n);

// A value written back as TOML ("x", 3, true, [1, 2], { "a" = "b" }); keys are
// always basic strings, because toml++ 3.3 writes a key holding a ' as a
// literal key that does not parse back (found by fuzz_toml_rules).
std::string TomlText(const toml::node& n);
// `key = value` as a one-key TOML document.
std::string TomlKeyValue(std::string_view key, const toml::node& value);

// One value as a C++ type. False with *why saying what the value must be, to
// follow the key's name ("must be a string"). Sizes and durations take an
// integer (bytes, seconds) or a string with a unit ("64MiB", "250ms").
bool TomlToString(const toml::node& n, std::string* out, std::string* why);
bool TomlToBool(const toml::node& n, bool* out, std::string* why);
bool TomlToInteger(const toml::node& n, int64_t min, int64_t max, int64_t* out, std::string* why);
bool TomlToNumber(const toml::node& n, double* out, std::string* why);  // finite, >= 0
bool TomlToSize(const toml::node& n, uint64_t* bytes, std::string* why);
bool TomlToDuration(const toml::node& n, int64_t* ns, std::string* why);  // >= 0
bool TomlToStringList(const toml::node& n, std::vector<std::string>* out, std::string* why);
bool TomlToStringMap(const toml::node& n, std::vector<std::pair<std::string, std::string>>* out, std::string* why);

// One table of a file. Getters leave *out alone and return true when the key
// is absent, and fail naming file, line, table and key when its value has the
// wrong type or range; strings that would be cut short as C strings or are
// not UTF-8 are refused (base/text_file.h: TextProblem). Every key a getter
// or Use asked for counts as known; NoOthers refuses the rest. Keys are kept
// as given: they must outlive the reader (string literals do).
class TomlTable {
 public:
  // `context` names the table in errors: "[output]", "source 2", "rule 'web'"
  // ("" for none). `file` and `err` must outlive the reader.
  TomlTable(const toml::table& table, const std::string& file, std::string context, std::string* err);

  // The context from now on: `context`, then `name` as Quoted writes it
  // ("rule 'web'"), quoted only when a message needs it.
  void set_context(std::string context, std::string_view name) {
    context_ = std::move(context);
    name_.assign(name);
    named_ = true;
  }

  // The node of `key`, now known; null when absent.
  const toml::node* Use(std::string_view key);
  // The node of `key` without making it known; null when absent.
  const toml::node* Find(std::string_view key) const;

  bool String(std::string_view key, std::string* out);
  bool NonEmptyString(std::string_view key, std::string* out);
  bool Bool(std::string_view key, bool* out);
  bool Integer(std::string_view key, int64_t min, int64_t max, int64_t* out);
  bool Number(std::string_view key, double* out);
  bool Size(std::string_view key, uint64_t* bytes);
  bool Duration(std::string_view key, int64_t* ns);
  // Durations in whole seconds.
  bool Seconds(std::string_view key, int64_t* seconds);
  // A list of strings; one string is a list of one.
  bool StringList(std::string_view key, std::vector<std::string>* out);
  // A string that must be one of `choices` ("fast", "recorded").
  bool OneOf(std::string_view key, std::initializer_list<std::string_view> choices, std::string* out);

  // Every key no getter asked for: "unknown key 'x' (expected a, b, c)", the
  // known keys in the order they were asked for, or `hint` in the brackets.
  bool NoOthers(std::string_view hint = {});
  // The keys no getter asked for, in file order.
  std::vector<std::string_view> Others() const;

  // Fills *err as "<file>:<line of at, or of the table>: <context>: <what>";
  // returns false.
  bool Fail(const toml::node* at, std::string_view what);
  // The same at the line of `key` (of the table when absent).
  bool FailAt(std::string_view key, std::string_view what);
  // Checks a string that becomes a label, filter, path or name.
  bool CheckText(const toml::node& at, std::string_view key, std::string_view value);

  // "<file>:<line>: <context> <key>": where a setting came from, for errors
  // found later (the interface does not exist, the port is taken).
  std::string Origin(std::string_view key) const;

 private:
  // `why` by reference: it is filled by the conversion that computes `ok`,
  // an argument of the same call.
  bool Convert(std::string_view key, const toml::node* n, bool ok, const std::string& why);

  const toml::table& table_;
  const std::string& file_;
  std::string Context() const;

  std::string context_, name_;
  bool named_ = false;
  std::string* err_;
  // The table's keys in file order, looked up by a scan: a table holds a few
  // keys, getters ask for many more (a [[rule]] reader asks for 11 of the
  // usual 3), and 10,000 rules are read at a daemon's start.
  struct Entry {
    std::string_view key;
    const toml::node* node;
    bool known;
  };
  std::vector<Entry> entries_;
  std::vector<std::string_view> asked_;  // every key asked for, in order (repeats too): for NoOthers' message
};

}  // namespace pcapml
