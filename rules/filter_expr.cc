// Evaluation of a FilterExpr: each test mirrors the BPF code libpcap 1.10
// generates for the primitive (see the tcpdump -d listings in the tests).
#include "rules/filter_expr.h"

namespace pcapml {
namespace {

bool MaskedEqual(const uint8_t* p, const Primitive& t, int bytes) {
  for (int i = 0; i < bytes; ++i)
    if ((p[i] & t.mask[i]) != t.addr[i]) return false;
  return true;
}

bool AddressTest(const uint8_t* src, const uint8_t* dst, const Primitive& t, int bytes) {
  switch (t.dir) {
    case Dir::kSrc:
      return MaskedEqual(src, t, bytes);
    case Dir::kDst:
      return MaskedEqual(dst, t, bytes);
    default:
      return MaskedEqual(src, t, bytes) || MaskedEqual(dst, t, bytes);
  }
}

bool Host4(const HeaderLayer& l, const Primitive& t) {
  bool via = (l.ethertype == kEtherIp && (t.via & kViaIp)) || (l.ethertype == kEtherArp && (t.via & kViaArp)) ||
             (l.ethertype == kEtherRarp && (t.via & kViaRarp));
  const uint8_t *src, *dst;
  return via && Ipv4Addresses(l, &src, &dst) && AddressTest(src, dst, t, 4);
}

bool Host6(const HeaderLayer& l, const Primitive& t) {
  return l.ethertype == kEtherIp6 && AddressTest(l.l3 + 8, l.l3 + 24, t, 16);
}

bool IpProto(const HeaderLayer& l, const Primitive& t) {
  if (l.ethertype == kEtherIp) return l.l3[9] == t.value;
  if (l.ethertype != kEtherIp6 || t.value == kProtoIcmp) return false;
  return l.l3[6] == t.value || (l.l3[6] == kProtoIp6Fragment && l.l3[40] == t.value);
}

bool Port(const HeaderLayer& l, const Primitive& t) {
  uint16_t sport, dport;
  if (!TransportPorts(l, t.via, &sport, &dport)) return false;
  bool s = sport >= t.value && sport <= t.high, d = dport >= t.value && dport <= t.high;
  return t.dir == Dir::kSrc ? s : t.dir == Dir::kDst ? d : s || d;
}

bool Vlan(const PacketHeaders& h, const Primitive& t) {
  uint16_t tpid = h.layer[t.depth].ethertype;
  if (tpid != 0x8100 && tpid != 0x88a8 && tpid != 0x9100) return false;
  return !(t.via & kVlanId) || (Load16(h.data + 14 + 4 * t.depth) & 0x0fff) == t.value;
}

bool Ether(const PacketHeaders& h, const Primitive& t) {
  bool s = MaskedEqual(h.data + 6, t, 6), d = MaskedEqual(h.data, t, 6);
  return t.dir == Dir::kSrc ? s : t.dir == Dir::kDst ? d : s || d;
}

}  // namespace

bool TestPrimitive(const Primitive& t, const PacketHeaders& h) {
  const HeaderLayer& l = h.layer[t.depth];
  switch (t.test) {
    case Test::kEtherType:
      return l.ethertype == t.value;
    case Test::kIpProto:
      return IpProto(l, t);
    case Test::kHost4:
      return Host4(l, t);
    case Test::kHost6:
      return Host6(l, t);
    case Test::kEther:
      return Ether(h, t);
    case Test::kPort:
      return Port(l, t);
    case Test::kVlan:
      return Vlan(h, t);
  }
  return false;
}

namespace {

bool Eval(const FilterExpr& e, uint16_t node, const PacketHeaders& h) {
  const FilterNode& n = e.nodes[node];
  switch (n.op) {
    case FilterNode::kPrimitive:
      return TestPrimitive(e.primitives[n.a], h);
    case FilterNode::kAnd:
      return Eval(e, n.a, h) && Eval(e, n.b, h);
    case FilterNode::kOr:
      return Eval(e, n.a, h) || Eval(e, n.b, h);
    case FilterNode::kNot:
      return !Eval(e, n.a, h);
  }
  return false;
}

}  // namespace

bool Evaluate(const FilterExpr& expr, const PacketHeaders& headers) { return Eval(expr, expr.root, headers); }

}  // namespace pcapml
