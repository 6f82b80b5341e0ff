// Rules files in TOML (docs/format.md: Rules), one [[rule]] table per rule, tried in
// file order:
//
//   [[rule]]
//   id = "web"                      # required, unique
//   label = "browsing"              # required
//   filter = "tcp port 443"         # libpcap filter; absent: every packet
//   start = 2024-05-01T08:00:00Z    # datetime with offset (exact), or epoch
//   end = 1714550400                #   seconds: an integer covers its whole
//                                   #   second, "1714550400.25" is exact
//   meta = { browser = "firefox", run = 3 }   # appended as ,key=value (sorted)
//   sample = "flow"                 # rule (default) | flow | window
//   idle_timeout = "30s"            # flow: silence that ends a flow (60s)
//   window = "60s"                  # window: window length
//   sample_key = "web-2024"         # sample key instead of the id
//
// A plugin rule has `plugin = "<name>"` instead of label (and no sample
// settings): its filter pre-filters, the plugin labels (classify/rule_chain.h).
// [[plugin]] tables configure plugin instances; ParseTomlRules skips them
// (plugin_host/plugin_settings.h reads them). Errors name file, line and rule.
#pragma once

#include <string>
#include <string_view>

#include "rules/rule.h"

namespace pcapml {

bool ParseTomlRules(const std::string& path, std::string_view text, const std::string& sensor_id, RuleSet* rules,
                    std::string* err);

}  // namespace pcapml
