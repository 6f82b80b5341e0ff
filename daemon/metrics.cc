#include "daemon/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>

#include "daemon/http_endpoint.h"
#include "version.h"

namespace pcapml {
namespace {

// Gauge::SetToCurrentTime keeps whole seconds only.
void SetToNow(prometheus::Gauge* g) {
  g->Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

using prometheus::BuildCounter;
using prometheus::BuildGauge;

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  received_ = &BuildCounter()
                   .Name("pcapml_packets_received_total")
                   .Help("Packets received from each source")
                   .Register(*registry_);
  dropped_ = &BuildCounter()
                  .Name("pcapml_packets_dropped_total")
                  .Help("Packets lost, by source and reason (kernel, interface, output)")
                  .Register(*registry_);
  reopened_ = &BuildCounter()
                   .Name("pcapml_source_reopened_total")
                   .Help("Times a lost interface was opened again (each one is a gap in capture)")
                   .Register(*registry_);
  plugin_packets_ = &BuildCounter()
                         .Name("pcapml_plugin_packets_total")
                         .Help("Packets each plugin instance was given, by result (labeled, no_opinion, error, held)")
                         .Register(*registry_);
  plugin_counters_ =
      &BuildCounter()
           .Name("pcapml_plugin_counter_total")
           .Help("A plugin's own counters, by plugin and name (`pcapml plugins PATH` lists a plugin's statistics)")
           .Register(*registry_);
  plugin_gauges_ =
      &BuildGauge()
           .Name("pcapml_plugin_gauge")
           .Help("A plugin's own gauges, by plugin and name (`pcapml plugins PATH` lists a plugin's statistics)")
           .Register(*registry_);
  held_ = &BuildCounter()
               .Name("pcapml_held_packets_total")
               .Help(
                   "Held packets by how their hold ended (labeled by their plugin, passed on undecided, "
                   "released at the hold limit, flushed at stop, rotation or reload)")
               .Register(*registry_);
  written_ = &BuildCounter()
                  .Name("pcapml_packets_written_total")
                  .Help("Packets written to completed or current output files")
                  .Register(*registry_)
                  .Add({});
  unmatched_ = &BuildCounter()
                    .Name("pcapml_packets_unmatched_total")
                    .Help("Packets no rule matched (dropped or kept per [rules] unmatched)")
                    .Register(*registry_)
                    .Add({});
  bytes_ = &BuildCounter()
                .Name("pcapml_bytes_written_total")
                .Help("Bytes written to output files, pcapng blocks included")
                .Register(*registry_)
                .Add({});
  files_ = &BuildCounter()
                .Name("pcapml_files_completed_total")
                .Help("Output files completed and renamed to their final name")
                .Register(*registry_)
                .Add({});
  recovered_ = &BuildCounter()
                    .Name("pcapml_files_recovered_total")
                    .Help("Output files an earlier run left as .partial (killed), completed at start")
                    .Register(*registry_)
                    .Add({});
  auto& reloads =
      BuildCounter().Name("pcapml_config_reloads_total").Help("Rule reloads (SIGHUP) by result").Register(*registry_);
  reload_ok_ = &reloads.Add({{"result", "success"}});
  reload_fail_ = &reloads.Add({{"result", "failure"}});
  rules_ = &BuildGauge()
                .Name("pcapml_rules_loaded")
                .Help("Rules in force (file and run-time rules)")
                .Register(*registry_)
                .Add({});
  last_reload_ok_ = &BuildGauge()
                         .Name("pcapml_config_last_reload_successful")
                         .Help(
                             "1 if the last rule reload (SIGHUP) succeeded or none was asked for, else 0: "
                             "the daemon runs on the rules it had before")
                         .Register(*registry_)
                         .Add({});
  last_reload_ok_->Set(1);
  last_completed_ = &BuildGauge()
                         .Name("pcapml_files_completed_last_timestamp_seconds")
                         .Help("Unix time when the last output file was completed (the daemon's start until one is)")
                         .Register(*registry_)
                         .Add({});
  SetToNow(last_completed_);
  files_removed_ = &BuildCounter()
                        .Name("pcapml_output_files_removed_total")
                        .Help("Completed files removed to keep [output] max_files and max_bytes")
                        .Register(*registry_)
                        .Add({});
  bytes_kept_ = &BuildGauge()
                     .Name("pcapml_output_bytes_kept")
                     .Help("Bytes of completed files in the output directory (what max_bytes bounds)")
                     .Register(*registry_)
                     .Add({});
  max_bytes_ = &BuildGauge()
                    .Name("pcapml_output_max_bytes")
                    .Help("[output] max_bytes, the disk budget (0: none)")
                    .Register(*registry_)
                    .Add({});
  fs_free_ = &BuildGauge()
                  .Name("pcapml_output_filesystem_free_bytes")
                  .Help("Free bytes of the output directory's file system")
                  .Register(*registry_)
                  .Add({});
  fs_size_ = &BuildGauge()
                  .Name("pcapml_output_filesystem_size_bytes")
                  .Help("Size of the output directory's file system")
                  .Register(*registry_)
                  .Add({});
  rotate_seconds_ = &BuildGauge()
                         .Name("pcapml_output_rotate_seconds")
                         .Help("[output] rotate_seconds: a file completes at least this often (0: no time rotation)")
                         .Register(*registry_)
                         .Add({});
  BuildGauge()
      .Name("pcapml_build_info")
      .Help("pcapml build information")
      .Register(*registry_)
      .Add({{"version", PCAPML_VERSION}})
      .Set(1);
}

Metrics::~Metrics() = default;

bool Metrics::Start(const std::string& listen, const std::string& key, std::string* err) {
  if (listen.empty()) return true;
  endpoint_ = std::make_unique<HttpEndpoint>(
      [registry = registry_] { return prometheus::TextSerializer().Serialize(registry->Collect()); });
  std::string why;
  if (!endpoint_->Start(listen, &why)) {
    endpoint_.reset();
    return *err = "metrics: " + key + " \"" + listen + "\": " + why, false;
  }
  return true;
}

int Metrics::port() const { return endpoint_ ? endpoint_->port() : 0; }

void Metrics::Add(prometheus::Counter& c, uint64_t now, uint64_t* last) {
  if (now > *last) c.Increment(static_cast<double>(now - *last));
  *last = now;
}

void Metrics::Publish(const PipelineCounts& n) {
  for (const SourceCounts& s : n.sources) {
    Add(received_->Add({{"source", s.name}}), s.received, &last_["r/" + s.name]);
    Add(dropped_->Add({{"source", s.name}, {"reason", "kernel"}}), s.kernel_drops, &last_["k/" + s.name]);
    Add(dropped_->Add({{"source", s.name}, {"reason", "interface"}}), s.iface_drops, &last_["i/" + s.name]);
    Add(reopened_->Add({{"source", s.name}}), s.reopened, &last_["o/" + s.name]);
  }
  for (const PluginCountsRow& p : n.plugins) {
    Add(plugin_packets_->Add({{"plugin", p.name}, {"result", "labeled"}}), p.labeled, &last_["pl/" + p.name]);
    Add(plugin_packets_->Add({{"plugin", p.name}, {"result", "no_opinion"}}), p.no_opinion, &last_["pn/" + p.name]);
    Add(plugin_packets_->Add({{"plugin", p.name}, {"result", "error"}}), p.errors, &last_["pe/" + p.name]);
    Add(plugin_packets_->Add({{"plugin", p.name}, {"result", "held"}}), p.held, &last_["ph/" + p.name]);
    for (const PluginStatRow& st : p.stats) {
      if (st.gauge)
        plugin_gauges_->Add({{"plugin", p.name}, {"name", st.name}}).Set(static_cast<double>(st.value));
      else
        Add(plugin_counters_->Add({{"plugin", p.name}, {"name", st.name}}), st.value,
            &last_["ps/" + p.name + "/" + st.name]);
    }
  }
  Add(held_->Add({{"outcome", "labeled"}}), n.held.labeled, &last_["hl"]);
  Add(held_->Add({{"outcome", "passed"}}), n.held.passed, &last_["hp"]);
  Add(held_->Add({{"outcome", "limit"}}), n.held.limit, &last_["hm"]);
  Add(held_->Add({{"outcome", "flushed"}}), n.held.flushed, &last_["hf"]);
  Add(dropped_->Add({{"source", "output"}, {"reason", "output"}}), n.dropped_output, &last_["output"]);
  Add(*written_, n.written, &last_["written"]);
  Add(*unmatched_, n.unmatched, &last_["unmatched"]);
  Add(*bytes_, n.bytes_written, &last_["bytes"]);
  if (n.files_completed > last_["files"]) SetToNow(last_completed_);
  Add(*files_, n.files_completed, &last_["files"]);
  Add(*files_removed_, n.files_removed, &last_["removed"]);
  bytes_kept_->Set(static_cast<double>(n.bytes_kept));
}

void Metrics::SetRulesLoaded(size_t n) { rules_->Set(static_cast<double>(n)); }

void Metrics::CountRecovered(uint64_t files) { recovered_->Increment(static_cast<double>(files)); }

void Metrics::CountReload(bool ok) {
  (ok ? reload_ok_ : reload_fail_)->Increment();
  last_reload_ok_->Set(ok ? 1 : 0);
}

void Metrics::SetRotateSeconds(int64_t seconds) { rotate_seconds_->Set(static_cast<double>(seconds)); }

void Metrics::SetMaxBytes(uint64_t bytes) { max_bytes_->Set(static_cast<double>(bytes)); }

void Metrics::SetFileSystem(uint64_t free_bytes, uint64_t size_bytes) {
  fs_free_->Set(static_cast<double>(free_bytes));
  fs_size_->Set(static_cast<double>(size_bytes));
}

}  // namespace pcapml
