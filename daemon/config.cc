#include "daemon/config.h"

#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "base/text_file.h"
#include "base/units.h"
#include "daemon/http_endpoint.h"
#include "plugin_host/plugin_settings.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

// Reads one table, remembering which keys were used so the rest can be
// reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table& t, std::string where, const std::string& path, std::string* err)
      : t_(t), where_(std::move(where)), path_(path), err_(err) {}

  bool Fail(const toml::node* n, const std::string& what) {
    int line = n ? static_cast<int>(n->source().begin.line) : static_cast<int>(t_.source().begin.line);
    *err_ = path_ + ":" + std::to_string(line) + ": " + where_ + ": " + what;
    return false;
  }

  bool String(const char* key, std::string* out) {
    const toml::node* n = Use(key);
    if (!n) return true;
    if (!n->is_string()) return Fail(n, std::string(key) + " must be a string");
    *out = n->as_string()->get();
    return Text(n, key, *out);
  }
  // A "\u0000" would cut a filter, path or name short where it becomes a C string.
  bool Text(const toml::node* n, const std::string& key, const std::string& value) {
    std::string problem = TextProblem(value);
    return problem.empty() || Fail(n, key + " " + problem + " " + Quoted(value));
  }
  bool Bool(const char* key, bool* out) {
    const toml::node* n = Use(key);
    if (!n) return true;
    if (!n->is_boolean()) return Fail(n, std::string(key) + " must be true or false");
    *out = n->as_boolean()->get();
    return true;
  }
  bool Number(const char* key, double* out) {
    const toml::node* n = Use(key);
    if (!n) return true;
    if (auto v = n->value<double>(); v && std::isfinite(*v) && *v >= 0) return *out = *v, true;
    return Fail(n, std::string(key) + " must be a non-negative number");
  }
  // Sizes: an integer (bytes) or a string with a unit ("1GiB").
  bool Bytes(const char* key, uint64_t* out) {
    const toml::node* n = Use(key);
    if (!n) return true;
    // Only integers: toml++ 3.3 casts a float such as 1e76 to int64_t unchecked (UB; found by fuzz_daemon_config).
    if (n->is_integer() && n->as_integer()->get() >= 0)
      return *out = static_cast<uint64_t>(n->as_integer()->get()), true;
    std::string why;
    if (n->is_string() && ParseBytes(n->as_string()->get(), out, &why)) return true;
    return Fail(n, std::string(key) + ": " + (why.empty() ? "expected a size like 64MiB" : why));
  }
  // Durations: an integer (seconds) or a string with a unit ("1h").
  bool Seconds(const char* key, int64_t* out) {
    const toml::node* n = Use(key);
    if (!n) return true;
    if (n->is_integer() && n->as_integer()->get() >= 0) return *out = n->as_integer()->get(), true;
    int64_t ns;
    std::string why;
    if (n->is_string() && ParseDuration(n->as_string()->get(), &ns, &why) && ns >= 0)
      return *out = ns / 1000000000, true;
    return Fail(n, std::string(key) + ": " + (why.empty() ? "expected a duration like 1h" : why));
  }
  // The same to the nanosecond ("250ms").
  bool Duration(const char* key, int64_t* ns) {
    const toml::node* n = Use(key);
    if (!n) return true;
    if (n->is_integer() && n->as_integer()->get() >= 0 && n->as_integer()->get() <= INT64_MAX / 1000000000)
      return *ns = n->as_integer()->get() * 1000000000, true;
    std::string why;
    if (n->is_string() && ParseDuration(n->as_string()->get(), ns, &why) && *ns >= 0) return true;
    return Fail(n, std::string(key) + ": " + (why.empty() ? "expected a duration like 2s" : why));
  }
  // Counts: a non-negative integer, no unit.
  bool Count(const char* key, uint32_t max, uint32_t* out) {
    const toml::node* n = Use(key);
    if (!n) return true;
    if (n->is_integer() && n->as_integer()->get() >= 0 && n->as_integer()->get() <= max)
      return *out = static_cast<uint32_t>(n->as_integer()->get()), true;
    return Fail(n, std::string(key) + " must be a whole number from 0 to " + std::to_string(max));
  }
  bool StringList(const char* key, std::vector<std::string>* out) {
    const toml::node* n = Use(key);
    if (!n) return true;
    if (n->is_string()) {
      if (!Text(n, key, n->as_string()->get())) return false;
      return out->push_back(n->as_string()->get()), true;
    }
    if (!n->is_array()) return Fail(n, std::string(key) + " must be a list of strings");
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) return Fail(&e, std::string(key) + " must be a list of strings");
      if (!Text(&e, key, e.as_string()->get())) return false;
      out->push_back(e.as_string()->get());
    }
    return true;
  }
  // "<file>:<line>: <table> <key>" for a key that was set (callers check).
  std::string Origin(const char* key) const {
    const toml::node* n = t_.get(key);
    int line = static_cast<int>((n ? n->source() : t_.source()).begin.line);
    return path_ + ":" + std::to_string(line) + ": " + (where_ == "top level" ? "" : where_ + " ") + key;
  }
  const toml::node* Use(const char* key) {
    used_.insert(key);
    return t_.get(key);
  }
  // Every key not read is an error.
  bool NoOthers() {
    for (const auto& [k, v] : t_)
      if (!used_.count(std::string(k.str()))) return Fail(&v, "unknown key " + Quoted(k.str()));
    return true;
  }

 private:
  const toml::table& t_;
  std::string where_;
  const std::string& path_;
  std::string* err_;
  std::set<std::string> used_;
};

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

std::vector<std::string> SplitWords(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool ReadSource(const toml::table& t, size_t index, const DaemonConfig& c, SourceConfig* s, std::string* err) {
  TableReader r(t, "source " + std::to_string(index + 1), c.path, err);
  std::string pace = "fast";
  double speed = 1.0;
  if (!r.String("interface", &s->interface) || !r.String("file", &s->file) || !r.Bytes("buffer", &s->buffer_bytes) ||
      !r.Bool("promisc", &s->promisc) || !r.String("filter", &s->filter) || !r.String("pace", &pace) ||
      !r.Number("speed", &speed))
    return false;
  uint64_t snaplen = s->snaplen;
  if (!r.Bytes("snaplen", &snaplen)) return false;
  if (snaplen == 0 || snaplen > 262144) return r.Fail(t.get("snaplen"), "snaplen must be 1..262144");
  s->snaplen = static_cast<uint32_t>(snaplen);
  if (s->interface.empty() == s->file.empty()) return r.Fail(nullptr, "give exactly one of interface or file");
  if (pace != "fast" && pace != "recorded") return r.Fail(t.get("pace"), "pace must be \"fast\" or \"recorded\"");
  if (speed <= 0) return r.Fail(t.get("speed"), "speed must be greater than 0");
  s->recorded_pace = pace == "recorded";
  s->speed = speed;
  s->file = Resolve(fs::path(c.path).parent_path().string(), s->file);
  s->origin = r.Origin(s->interface.empty() ? "file" : "interface");
  if (!s->filter.empty()) s->filter_origin = r.Origin("filter");
  return r.NoOthers();
}

// Two live sources on one interface with one capture filter would each get
// every packet, so every packet would be written twice.
bool NotCapturedTwice(const toml::array& tables, size_t index, const DaemonConfig& c, const SourceConfig& s,
                      std::string* err) {
  if (s.interface.empty()) return true;
  for (size_t j = 0; j < c.sources.size(); ++j) {
    const SourceConfig& o = c.sources[j];
    if (o.interface != s.interface || o.filter != s.filter) continue;
    *err = c.path + ":" + std::to_string(tables.get(index)->source().begin.line) + ": source " +
           std::to_string(index + 1) + ": interface " + s.interface + " is already captured by source " +
           std::to_string(j + 1) + " (line " + std::to_string(tables.get(j)->source().begin.line) + ")" +
           (s.filter.empty() ? "" : " with the same filter") + ": every packet would be written twice";
    return false;
  }
  return true;
}

bool ReadOutput(const toml::table& t, DaemonConfig* c, std::string* err) {
  TableReader r(t, "[output]", c->path, err);
  OutputConfig& o = c->output;
  std::string post;
  if (!r.String("directory", &o.directory) || !r.String("prefix", &o.prefix) ||
      !r.Bytes("rotate_bytes", &o.rotate_bytes) || !r.Seconds("rotate_seconds", &o.rotate_seconds) ||
      !r.Bytes("rotate_packets", &o.rotate_packets) || !r.Count("max_files", 1000000, &o.max_files) ||
      !r.Bytes("max_bytes", &o.max_bytes) || !r.String("post_rotate", &post) || !r.Bool("fsync", &o.fsync))
    return false;
  if (o.max_bytes && o.rotate_bytes >= o.max_bytes)
    return r.Fail(t.get("max_bytes"), "max_bytes must leave room for more than one file of rotate_bytes");
  if (o.prefix.empty() || o.prefix.find('/') != std::string::npos)
    return r.Fail(t.get("prefix"), "prefix must be a non-empty file name");
  o.post_rotate = SplitWords(post);
  o.directory = Resolve(fs::path(c->path).parent_path().string(), o.directory);
  for (const char* key : {"directory", "post_rotate", "max_bytes"})
    if (t.get(key)) c->origins[std::string("output.") + key] = r.Origin(key);
  return r.NoOthers();
}

bool ReadTop(const toml::table& top, DaemonConfig* c, std::string* err) {
  TableReader r(top, "top level", c->path, err);
  if (!r.String("sensor_id", &c->sensor_id) || !r.String("user", &c->user)) return false;
  if (!c->user.empty()) c->origins["user"] = r.Origin("user");
  if (const toml::node* n = r.Use("source")) {
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables()) return r.Fail(n, "source must be [[source]] tables");
    for (size_t i = 0; i < a->size(); ++i) {
      SourceConfig s;
      const toml::table& t = *a->get(i)->as_table();
      if (!ReadSource(t, i, *c, &s, err)) return false;
      if (!NotCapturedTwice(*a, i, *c, s, err)) return false;
      c->sources.push_back(std::move(s));
    }
  }
  if (c->sources.empty()) return r.Fail(nullptr, "no [[source]]: give an interface or a file");
  std::string base = fs::path(c->path).parent_path().string();
  if (const toml::node* n = r.Use("rules")) {
    if (!n->is_table()) return r.Fail(n, "rules must be a table");
    TableReader rr(*n->as_table(), "[rules]", c->path, err);
    std::string unmatched = "drop";
    if (!rr.StringList("files", &c->rule_files) || !rr.String("unmatched", &unmatched) ||
        !rr.Duration("hold", &c->hold.hold_ns) || !rr.Bytes("hold_bytes", &c->hold.hold_bytes) || !rr.NoOthers())
      return false;
    if (n->as_table()->get("files")) c->origins["rules.files"] = rr.Origin("files");
    if (unmatched != "drop" && unmatched != "keep")
      return rr.Fail(n->as_table()->get("unmatched"), "unmatched must be \"drop\" or \"keep\"");
    c->keep_unmatched = unmatched == "keep";
    for (std::string& f : c->rule_files) f = Resolve(base, f);
  }
  if (const toml::node* n = r.Use("plugin"); n && !ReadPluginTables(*n, c->path, base, &c->plugins, err)) return false;
  if (const toml::node* n = r.Use("output")) {
    if (!n->is_table() || !ReadOutput(*n->as_table(), c, err))
      return n->is_table() ? false : r.Fail(n, "output must be a table");
  }
  if (const toml::node* n = r.Use("metrics")) {
    if (!n->is_table()) return r.Fail(n, "metrics must be a table");
    TableReader mr(*n->as_table(), "[metrics]", c->path, err);
    if (!mr.String("listen", &c->metrics_listen) || !mr.NoOthers()) return false;
    std::string address, why;
    uint16_t port;
    if (!c->metrics_listen.empty() && !ParseListenAddress(c->metrics_listen, &address, &port, &why))
      return mr.Fail(n->as_table()->get("listen"), "listen \"" + c->metrics_listen + "\": " + why);
    if (n->as_table()->get("listen")) c->origins["metrics.listen"] = mr.Origin("listen");
  }
  if (const toml::node* n = r.Use("control")) {
    if (!n->is_table()) return r.Fail(n, "control must be a table");
    TableReader cr(*n->as_table(), "[control]", c->path, err);
    if (!cr.String("socket", &c->control_socket) || !cr.NoOthers()) return false;
    c->control_socket = Resolve(base, c->control_socket);
  }
  return r.NoOthers();
}

}  // namespace

std::string DaemonConfig::Origin(const std::string& key) const {
  auto it = origins.find(key);
  if (it != origins.end()) return it->second;
  size_t dot = key.find('.');
  std::string shown = dot == std::string::npos ? key : "[" + key.substr(0, dot) + "] " + key.substr(dot + 1);
  return path + ": " + shown + " (default)";
}

bool LoadDaemonConfig(const std::string& path, DaemonConfig* config, std::string* err) {
  config->path = path;
  toml::table top;
  std::string text;
  if (!ReadTextFile(path, &text, err)) return false;
  try {
    top = toml::parse(WithLfLineEnds(text), path);  // TOML itself takes no lone CR
  } catch (const toml::parse_error& e) {
    *err = path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
    return false;
  }
  return ReadTop(top, config, err);
}

}  // namespace pcapml
