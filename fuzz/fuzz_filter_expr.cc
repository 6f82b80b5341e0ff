// The BPF-subset parser (rules/filter_expr.h), differentially: the input is
// a filter expression, a newline, a link-type byte and a packet. Any text
// must parse or be refused without a crash; an expression libpcap also
// compiles must then answer on the packet exactly as pcap_offline_filter
// does, whenever the headers decode completely (the promise RuleSet relies
// on to skip BPF).
#include "fuzz/fuzz_util.h"
#include "rules/bpf.h"
#include "rules/filter_expr.h"

using namespace pcapml;

namespace {

constexpr uint16_t kLinkTypes[] = {1, 101, 113, 276};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view text = input.substr(0, nl);
  FilterExpr expr;
  if (!ParseFilterExpr(text, &expr)) return 0;
  FUZZ_CHECK(!expr.nodes.empty() && expr.root < expr.nodes.size());
  if (nl == std::string_view::npos || nl + 1 >= size) return 0;
  uint16_t link_type = kLinkTypes[data[nl + 1] % std::size(kLinkTypes)];
  const uint8_t* packet = data + nl + 2;
  uint32_t caplen = static_cast<uint32_t>(size - nl - 2);
  // The contract covers what libpcap accepts, as RuleSet::Add checks it.
  BpfFilter bpf{std::string(text)};
  std::string why;
  if (!bpf.Prepare(link_type, &why)) return 0;
  if (expr.ethernet_only && link_type != 1) return 0;  // RuleSet leaves these to BPF
  HeaderDecoder decoder;
  if (!decoder.Init(link_type, expr.max_depth)) return 0;
  PacketHeaders headers;
  decoder.Decode(packet, caplen, &headers);
  if (!headers.complete) return 0;
  bool native = Evaluate(expr, headers);
  bool libpcap = bpf.Matches(link_type, packet, caplen, caplen);
  if (native != libpcap)
    fprintf(stderr, "'%.*s' on link type %u: native %d, libpcap %d\n", static_cast<int>(text.size()), text.data(),
            link_type, native, libpcap);
  FUZZ_CHECK(native == libpcap);
  return 0;
}
