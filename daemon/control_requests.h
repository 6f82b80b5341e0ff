// The control protocol's requests, as daemon/control.h's server hands them
// over (fields of a tab-separated line): parsing them, doing them, and the
// lines answering them. What each request takes and answers:
//   add \t id=<id> \t label=<label> [\t filter=<bpf>] [\t sample=rule|flow|window]
//       [\t window=<duration>] [\t meta=<k>=<v>]...
//                   a run-time rule whose window starts now; its sample key
//                   is its id. Answers sample_id=<id>, ok.
//   end \t <id>     ends it. Answers packets=<n>, ok.
//   list            one line per active run-time rule (DescribeRuntimeRule), ok
//   status          key=value lines (pid, file, rules, counters, sources), ok
// Anything else, or a request that cannot be done, is answered with one
// "error <why>" line.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "rules/rule.h"

namespace pcapml {

class Metrics;
class Pipeline;

// The fields of an `add` request (fields[0] is "add") as a rule's settings:
// id= and label= required, filter=, sample=, window=, meta=k=v (repeatable).
// False, with *err saying why, for an unknown or malformed field.
bool ParseAddRequest(const std::vector<std::string>& fields, RuleSpec* spec, std::string* err);

// What `list` shows of a run-time rule: id, metadata, filter, sample mode,
// since=<UTC start>, packets=<n>, tab-separated.
std::string DescribeRuntimeRule(const Rule& rule);

// Does requests on the daemon's event loop thread. Rule changes run on the
// packet thread (Pipeline::OnPipeline); a run of adds and ends a client sent
// at once shares one trip there (each trip is two thread switches: 10,000
// pipelined adds took seconds one by one).
class ControlRequests {
 public:
  // Added and ended rules are logged through `log`; the rule count (file
  // rules plus run-time rules) is published to metrics.
  ControlRequests(std::string sensor_id, Pipeline* pipeline, Metrics* metrics,
                  std::function<void(const std::string&)> log);

  // Answers requests in order (ControlServer::Handler): each request's lines
  // end with "ok" or are one "error ..." line.
  std::vector<std::string> Answer(const std::vector<std::vector<std::string>>& requests);

  // The rules loaded from files now (at start and each reload).
  void SetFileRules(size_t n);

  // Most run-time rules active at once (each holds a compiled filter): bounds
  // what a client can make the daemon keep.
  static constexpr size_t kMaxRuntimeRules = 10000;

 private:
  std::vector<std::string> AnswerOne(const std::vector<std::string>& fields);
  std::vector<std::string> List();
  std::vector<std::string> Status();
  std::vector<std::string> ChangeRules(const std::vector<std::vector<std::string>>& requests, size_t begin, size_t end);

  std::string sensor_id_;
  Pipeline* pipeline_;
  Metrics* metrics_;
  std::function<void(const std::string&)> log_;
  size_t file_rules_ = 0, runtime_rules_ = 0;
  size_t trim_mark_ = 0;  // most run-time rules active since the heap was last trimmed
};

}  // namespace pcapml
