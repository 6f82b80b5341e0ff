#include "rules/labels_file.h"

#include <filesystem>
#include <map>

#include "base/text_file.h"
#include "rules/sample_id.h"

namespace fs = std::filesystem;

namespace pcapml {
namespace {

bool IsHeader(std::string_view line) {
  std::string lower;
  for (char c : line) lower += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return lower == "filename,label" || lower == "file,label";
}

// "FILE:dataset/a.pcap" or "dataset/a.pcap" or "a.pcap" -> "a.pcap".
std::string Relative(std::string_view name, const std::string& dir) {
  if (name.substr(0, 5) == "FILE:") name.remove_prefix(5);
  fs::path p = fs::path(std::string(name)).lexically_normal();
  fs::path d = fs::path(dir).lexically_normal();
  if (!d.empty() && d.filename().empty()) d = d.parent_path();  // "dataset/" -> "dataset"
  fs::path rel = p.lexically_relative(d);
  if (!d.empty() && !rel.empty() && *rel.begin() != "..") return rel.string();
  return p.string();
}

}  // namespace

bool ParseLabelsFile(const std::string& path, std::string_view text, const std::string& dir,
                     const std::string& sensor_id, std::vector<LabeledFile>* out, std::string* err) {
  std::map<std::string, size_t> seen;
  bool first = true;
  LineReader lines(text);
  for (std::string_view line; lines.Next(&line);) {
    size_t line_no = lines.line_number();
    if (line.find_first_not_of(" \t") == std::string_view::npos || line[0] == '#') continue;
    if (first && IsHeader(line)) {
      first = false;
      continue;
    }
    first = false;
    auto fail = [&](const std::string& what, std::string_view shown) {
      *err = path + ":" + std::to_string(line_no) + ": " + what + " " + Quoted(shown);
      return false;
    };
    size_t comma = line.find(',');
    if (comma == std::string_view::npos) return fail("expected filename,label", line);
    if (comma == 0) return fail("empty filename", line);
    if (comma + 1 == line.size()) return fail("empty label", line);
    // The label goes into comments (UTF-8, no NUL); the name to the file system (any bytes but NUL).
    std::string_view name = line.substr(0, comma), label = line.substr(comma + 1);
    if (name.find('\0') != std::string_view::npos) return fail("filename contains a NUL byte", name);
    if (std::string problem = TextProblem(label); !problem.empty()) return fail("label " + problem, label);
    // A label holds no comma; what follows it can only be key=value fields (written after the label, as a
    // rule's meta is). "web1.pcap,web,extra" is a mistake, not the label "web,extra".
    for (size_t at = line.find(',', comma + 1), next; at != std::string_view::npos; at = next) {
      next = line.find(',', at + 1);
      std::string_view field = line.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
      if (field.find('=') == std::string_view::npos || field[0] == '=')
        return fail("a field after the label must be key=value, not " + Quoted(field) +
                        " (lines are filename,label[,key=value...]; a label holds no ','):",
                    line);
    }
    LabeledFile f;
    f.path = Relative(name, dir);
    f.metadata = std::string(label);
    f.sample_id = SampleId((sensor_id.empty() ? "" : sensor_id + "/") + std::string(line));
    f.comment = std::to_string(f.sample_id) + "," + f.metadata;
    f.line = line_no;
    auto [it, inserted] = seen.emplace(f.path, line_no);
    if (!inserted) return fail("file already listed on line " + std::to_string(it->second), line);
    out->push_back(std::move(f));
  }
  if (out->empty()) {
    *err = path + ": no files listed";
    return false;
  }
  return true;
}

}  // namespace pcapml
