#include "daemon/config.h"

#include <filesystem>
#include <sstream>

#include "base/text_file.h"
#include "base/toml_table.h"
#include "daemon/http_endpoint.h"
#include "plugin_host/plugin_settings.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

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
  TomlTable r(t, c.path, "source " + std::to_string(index + 1), err);
  std::string pace = "fast";
  double speed = 1.0;
  uint64_t snaplen = s->snaplen;
  if (!r.String("interface", &s->interface) || !r.String("file", &s->file) || !r.Size("buffer", &s->buffer_bytes) ||
      !r.Bool("promisc", &s->promisc) || !r.String("filter", &s->filter) ||
      !r.OneOf("pace", {"fast", "recorded"}, &pace) || !r.Number("speed", &speed) || !r.Size("snaplen", &snaplen))
    return false;
  if (snaplen == 0 || snaplen > 262144) return r.FailAt("snaplen", "snaplen must be 1..262144");
  s->snaplen = static_cast<uint32_t>(snaplen);
  if (s->interface.empty() == s->file.empty()) return r.Fail(nullptr, "give exactly one of interface or file");
  if (speed <= 0) return r.FailAt("speed", "speed must be greater than 0");
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
  TomlTable r(t, c->path, "[output]", err);
  OutputConfig& o = c->output;
  std::string post;
  int64_t max_files = o.max_files;
  if (!r.String("directory", &o.directory) || !r.String("prefix", &o.prefix) ||
      !r.Size("rotate_bytes", &o.rotate_bytes) || !r.Seconds("rotate_seconds", &o.rotate_seconds) ||
      !r.Size("rotate_packets", &o.rotate_packets) || !r.Integer("max_files", 0, 1000000, &max_files) ||
      !r.Size("max_bytes", &o.max_bytes) || !r.String("post_rotate", &post) || !r.Bool("fsync", &o.fsync))
    return false;
  o.max_files = static_cast<uint32_t>(max_files);
  if (o.max_bytes && o.rotate_bytes >= o.max_bytes)
    return r.FailAt("max_bytes", "max_bytes must leave room for more than one file of rotate_bytes");
  if (o.prefix.empty() || o.prefix.find('/') != std::string::npos)
    return r.FailAt("prefix", "prefix must be a non-empty file name");
  o.post_rotate = SplitWords(post);
  o.directory = Resolve(fs::path(c->path).parent_path().string(), o.directory);
  for (const char* key : {"directory", "post_rotate", "max_bytes"})
    if (t.get(key)) c->origins[std::string("output.") + key] = r.Origin(key);
  return r.NoOthers();
}

// A [name] table of the top level, read by `read`; absent is fine.
template <typename Read>
bool ReadTable(TomlTable& top, const char* name, Read read) {
  const toml::node* n = top.Use(name);
  if (!n) return true;
  if (!n->is_table()) return top.Fail(n, std::string(name) + " must be a table");
  return read(*n->as_table());
}

bool ReadTop(const toml::table& top, DaemonConfig* c, std::string* err) {
  TomlTable r(top, c->path, "", err);
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
  bool ok = ReadTable(r, "rules", [&](const toml::table& t) {
    TomlTable rr(t, c->path, "[rules]", err);
    std::string unmatched = "drop";
    if (!rr.StringList("files", &c->rule_files) || !rr.OneOf("unmatched", {"drop", "keep"}, &unmatched) ||
        !rr.Duration("hold", &c->hold.hold_ns) || !rr.Size("hold_bytes", &c->hold.hold_bytes) || !rr.NoOthers())
      return false;
    if (t.get("files")) c->origins["rules.files"] = rr.Origin("files");
    c->keep_unmatched = unmatched == "keep";
    for (std::string& f : c->rule_files) f = Resolve(base, f);
    return true;
  });
  if (!ok) return false;
  if (const toml::node* n = r.Use("plugin"); n && !ReadPluginTables(*n, c->path, base, &c->plugins, err)) return false;
  ok = ReadTable(r, "output", [&](const toml::table& t) { return ReadOutput(t, c, err); }) &&
       ReadTable(r, "metrics",
                 [&](const toml::table& t) {
                   TomlTable mr(t, c->path, "[metrics]", err);
                   if (!mr.String("listen", &c->metrics_listen) || !mr.NoOthers()) return false;
                   std::string address, why;
                   uint16_t port;
                   if (!c->metrics_listen.empty() && !ParseListenAddress(c->metrics_listen, &address, &port, &why))
                     return mr.FailAt("listen", "listen \"" + c->metrics_listen + "\": " + why);
                   if (t.get("listen")) c->origins["metrics.listen"] = mr.Origin("listen");
                   return true;
                 }) &&
       ReadTable(r, "control", [&](const toml::table& t) {
         TomlTable cr(t, c->path, "[control]", err);
         if (!cr.String("socket", &c->control_socket) || !cr.NoOthers()) return false;
         c->control_socket = Resolve(base, c->control_socket);
         return true;
       });
  return ok && r.NoOthers();
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
  return ReadTextFile(path, &text, err) && ParseTomlText(path, text, &top, err) && ReadTop(top, config, err);
}

}  // namespace pcapml
