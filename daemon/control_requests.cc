#include "daemon/control_requests.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "base/clock.h"
#include "base/text_file.h"
#include "base/units.h"
#include "daemon/metrics.h"
#include "daemon/pipeline.h"

namespace pcapml {
namespace {

bool IsRuleChange(const std::vector<std::string>& f) { return f[0] == "add" || (f[0] == "end" && f.size() == 2); }

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0, nl;
  while ((nl = text.find('\n', start)) != std::string::npos) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

bool ParseAddRequest(const std::vector<std::string>& fields, RuleSpec* spec, std::string* err) {
  std::string sample = "rule";
  for (size_t i = 1; i < fields.size(); ++i) {
    const std::string& field = fields[i];
    size_t eq = field.find('=');
    // Values reach comments, libpcap and the log: a NUL would cut them short, a comment is UTF-8.
    if (std::string problem = TextProblem(field); !problem.empty())
      return *err = "field " + Quoted(field) + " " + problem, false;
    std::string key = field.substr(0, eq), value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (key == "id")
      spec->id = value;
    else if (key == "label")
      spec->label = value;
    else if (key == "filter")
      spec->filter = value;
    else if (key == "sample")
      sample = value;
    else if (key == "window") {
      if (!ParseDuration(value, &spec->window_ns, err)) return false;
    } else if (key == "meta") {
      size_t e = value.find('=');
      if (e == std::string::npos) return *err = "meta must be key=value", false;
      spec->meta.emplace_back(value.substr(0, e), value.substr(e + 1));
    } else {
      return *err = "unknown field " + Quoted(key.substr(0, 40)), false;
    }
  }
  if (spec->id.empty() || spec->label.empty()) return *err = "add needs id= and label=", false;
  if (!ParseSampleMode(sample, &spec->sample)) return *err = "sample must be rule, flow or window", false;
  return true;
}

std::string DescribeRuntimeRule(const Rule& r) {
  static const char* kModes[] = {"rule", "flow", "window"};
  return r.id + "\t" + r.metadata + "\t" + (r.filter.empty() ? "-" : r.filter) + "\t" +
         kModes[static_cast<int>(r.sample)] + "\tsince=" + FormatUtcNs(r.window.first_ns) +
         "\tpackets=" + std::to_string(r.packets);
}

ControlRequests::ControlRequests(std::string sensor_id, Pipeline* pipeline, Metrics* metrics,
                                 std::function<void(const std::string&)> log)
    : sensor_id_(std::move(sensor_id)), pipeline_(pipeline), metrics_(metrics), log_(std::move(log)) {}

void ControlRequests::SetFileRules(size_t n) {
  file_rules_ = n;
  metrics_->SetRulesLoaded(file_rules_ + runtime_rules_);
}

std::vector<std::string> ControlRequests::Answer(const std::vector<std::vector<std::string>>& requests) {
  std::vector<std::string> out;
  for (size_t i = 0; i < requests.size();) {
    size_t end = i;
    while (end < requests.size() && IsRuleChange(requests[end])) ++end;
    std::vector<std::string> lines = end > i ? ChangeRules(requests, i, end) : AnswerOne(requests[i]);
    out.insert(out.end(), lines.begin(), lines.end());
    i = std::max(end, i + 1);
  }
  return out;
}

std::vector<std::string> ControlRequests::AnswerOne(const std::vector<std::string>& f) {
  const std::string& cmd = f[0];
  if (cmd == "list") return List();
  if (cmd == "status") return Status();
  std::string shown = cmd.substr(0, 40);
  for (char& ch : shown)
    if (!isprint(static_cast<unsigned char>(ch))) ch = '?';
  return {"error unknown request '" + shown + "' (expected add, end, list or status)"};
}

std::vector<std::string> ControlRequests::List() {
  std::string listed = pipeline_->OnPipeline([](RuleSet& runtime) {
    std::string out;
    runtime.ForEachRule([&](const Rule& r) { out += DescribeRuntimeRule(r) + "\n"; });
    return out;
  });
  if (listed.rfind("error ", 0) == 0) return {listed};
  std::vector<std::string> out = SplitLines(listed);
  out.push_back("ok");
  return out;
}

std::vector<std::string> ControlRequests::Status() {
  PipelineCounts c = pipeline_->Counts();
  std::vector<std::string> out = {"pid=" + std::to_string(getpid()),
                                  "file=" + pipeline_->current_file(),
                                  "rules=" + std::to_string(file_rules_),
                                  "runtime_rules=" + std::to_string(runtime_rules_),
                                  "written=" + std::to_string(c.written),
                                  "unmatched=" + std::to_string(c.unmatched),
                                  "bytes_written=" + std::to_string(c.bytes_written),
                                  "files_completed=" + std::to_string(c.files_completed),
                                  "dropped_output=" + std::to_string(c.dropped_output)};
  for (const SourceCounts& s : c.sources)
    out.push_back("source=" + s.name + " received=" + std::to_string(s.received) + " kernel_drops=" +
                  std::to_string(s.kernel_drops) + " interface_drops=" + std::to_string(s.iface_drops));
  out.push_back("ok");
  return out;
}

// Adds (like a TOML rule whose window starts now; its sample key is its id)
// and ends of run-time rules, in order, in one trip to the packet thread.
std::vector<std::string> ControlRequests::ChangeRules(const std::vector<std::vector<std::string>>& requests,
                                                      size_t begin, size_t end) {
  struct Change {
    bool add = false, done = false;
    std::string id;
    Rule rule;           // add
    uint64_t value = 0;  // done: the sample ID added, or the packets of the rule ended
    std::string answer;  // not done: the error
  };
  // Shared with the packet thread: a job that waited too long still runs later.
  auto changes = std::make_shared<std::vector<Change>>(end - begin);
  std::vector<std::string> early(end - begin), described(end - begin);  // io thread only
  for (size_t k = 0; k < changes->size(); ++k) {
    const std::vector<std::string>& f = requests[begin + k];
    Change& c = (*changes)[k];
    c.add = f[0] == "add";
    if (!c.add) {
      c.id = f[1];
      continue;
    }
    RuleSpec spec;
    std::string err;
    spec.source = "control socket";
    spec.window.first_ns = WallClockNs();
    if (!ParseAddRequest(f, &spec, &err) || !BuildRule(spec, sensor_id_, &c.rule, &err)) {
      early[k] = c.answer = "error " + err;
      continue;
    }
    c.id = c.rule.id;
    described[k] = "label " + spec.label + (spec.filter.empty() ? "" : ", filter " + spec.filter);
  }
  std::string active = pipeline_->OnPipeline([changes](RuleSet& runtime) {
    for (Change& c : *changes) {
      if (!c.answer.empty()) continue;
      if (c.add && runtime.size() >= kMaxRuntimeRules) {
        c.answer = "error " + std::to_string(kMaxRuntimeRules) + " run-time rules are active: end some first";
      } else if (c.add && runtime.Find(c.id)) {
        c.answer = "error rule '" + c.id + "' is already active";
      } else if (c.add) {
        c.value = c.rule.sample_id;
        std::string why;
        c.done = runtime.Add(std::move(c.rule), &why);
        if (!c.done) c.answer = "error " + why;
      } else if (const Rule* r = runtime.Find(c.id)) {
        c.value = r->packets;
        c.done = runtime.Remove(c.id);
      } else {
        c.answer = "error no active rule '" + c.id.substr(0, 80) + "'";
      }
    }
    return std::to_string(runtime.size());
  });
  std::vector<std::string> out;
  if (active.rfind("error ", 0) == 0) {  // not run yet: *changes is the packet thread's now
    for (const std::string& e : early) out.push_back(e.empty() ? active : e);
    return out;
  }
  for (size_t k = 0; k < changes->size(); ++k) {
    const Change& c = (*changes)[k];
    if (!c.done) {
      out.push_back(c.answer);
    } else if (c.add) {
      log_("run-time rule '" + c.id + "' added: " + described[k]);
      out.insert(out.end(), {"sample_id=" + std::to_string(c.value), "ok"});
    } else {
      log_("run-time rule '" + c.id + "' ended after " + std::to_string(c.value) + " packets");
      out.insert(out.end(), {"packets=" + std::to_string(c.value), "ok"});
    }
  }
  runtime_rules_ = std::stoul(active);
  metrics_->SetRulesLoaded(file_rules_ + runtime_rules_);
  // Ended rules free their memory, but glibc keeps freed heap pages: give
  // them back each time the count halves (amortized: trimming walks the heap).
  trim_mark_ = std::max(trim_mark_, runtime_rules_);
  if (runtime_rules_ * 2 <= trim_mark_ && trim_mark_ > 0) {
    malloc_trim(0);
    trim_mark_ = runtime_rules_;
  }
  return out;
}

}  // namespace pcapml
