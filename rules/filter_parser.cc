// Parser for the FilterExpr subset of libpcap's grammar (grammar.y): `and`
// and `or` have equal precedence and associate to the left, `not` binds
// tighter, and a bare value after and/or inherits the qualifiers of the
// primitive before it (`host a or b`, `tcp port 80 or 443`). Whatever this
// parser is unsure about makes it return false: the rule then runs libpcap.
#include <arpa/inet.h>

#include <cstring>
#include <optional>
#include <string>

#include "rules/filter_expr.h"

namespace pcapml {
namespace {

enum class Tok { kWord, kLParen, kRParen, kNot, kAnd, kOr, kEnd };
struct Token {
  Tok kind;
  std::string_view text;
};

bool Tokenize(std::string_view s, std::vector<Token>* out) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    // libpcap reads a C string, so text after a NUL is not what it compiled;
    // and strchr below matches NUL, which made this loop spin forever.
    if (c == '\0') return false;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '(' || c == ')') {
      out->push_back({c == '(' ? Tok::kLParen : Tok::kRParen, s.substr(i++, 1)});
    } else if (c == '!' || c == '&' || c == '|') {
      bool twice = i + 1 < s.size() && s[i + 1] == c;
      if (c == '!' ? (i + 1 < s.size() && s[i + 1] == '=') : !twice) return false;  // arithmetic
      out->push_back({c == '!' ? Tok::kNot : c == '&' ? Tok::kAnd : Tok::kOr, s.substr(i, 1)});
      i += c == '!' ? 1 : 2;
    } else {
      size_t j = i;
      while (j < s.size() && !strchr(" \t\n\r()!&|", s[j])) ++j;
      std::string_view w = s.substr(i, j - i);
      Tok k = w == "and" ? Tok::kAnd : w == "or" ? Tok::kOr : w == "not" ? Tok::kNot : Tok::kWord;
      out->push_back({k, w});
      i = j;
    }
  }
  out->push_back({Tok::kEnd, {}});
  return true;
}

// A decimal number without sign or leading zeros (libpcap reads 0x.. as hex
// and 0.. as octal: those stay with libpcap).
bool Decimal(std::string_view s, uint32_t max, uint32_t* v) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > max) return false;
  *v = static_cast<uint32_t>(n);
  return true;
}

enum class ValueKind { kNone, kIpv4, kIpv6, kMac, kNumber, kRange };
struct Value {
  ValueKind kind = ValueKind::kNone;
  std::array<uint8_t, 16> addr{};
  int prefix = -1;  // "/len", -1 if absent
  uint32_t num = 0, num2 = 0;
};

bool ParseIpv4(std::string_view s, uint8_t* out) {
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? s.find('.') : s.size();
    uint32_t octet;
    if (dot == std::string_view::npos || !Decimal(s.substr(0, dot), 255, &octet)) return false;
    out[i] = static_cast<uint8_t>(octet);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseMac(std::string_view s, uint8_t* out) {
  if (s.size() != 17) return false;
  for (int i = 0; i < 6; ++i) {
    int hi = HexDigit(s[i * 3]), lo = HexDigit(s[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':')) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

Value ClassifyWord(std::string_view w) {
  Value v;
  if (ParseMac(w, v.addr.data())) return v.kind = ValueKind::kMac, v;
  if (Decimal(w, 0xffffffff, &v.num)) return v.kind = ValueKind::kNumber, v;
  size_t dash = w.find('-');
  if (dash != std::string_view::npos && Decimal(w.substr(0, dash), 65535, &v.num) &&
      Decimal(w.substr(dash + 1), 65535, &v.num2))
    return v.kind = ValueKind::kRange, v;
  std::string_view addr = w;
  if (size_t slash = w.find('/'); slash != std::string_view::npos) {
    uint32_t len;
    if (!Decimal(w.substr(slash + 1), 128, &len)) return v;
    v.prefix = static_cast<int>(len);
    addr = w.substr(0, slash);
  }
  if (ParseIpv4(addr, v.addr.data())) {
    v.kind = v.prefix <= 32 ? ValueKind::kIpv4 : ValueKind::kNone;
  } else if (addr.find(':') != std::string_view::npos && addr.find('%') == std::string_view::npos && addr.size() < 64 &&
             inet_pton(AF_INET6, std::string(addr).c_str(), v.addr.data()) == 1) {
    v.kind = ValueKind::kIpv6;
  }
  return v;
}

enum class Proto { kNone, kEther, kIp, kIp6, kArp, kRarp, kTcp, kUdp };
enum class Type { kNone, kHost, kNet, kPort, kPortRange };
struct Qual {
  Proto proto = Proto::kNone;
  Dir dir = Dir::kSrcOrDst;
  Type type = Type::kNone;
  bool has_dir = false;
};

std::optional<Proto> ProtoWord(std::string_view w) {
  if (w == "ether") return Proto::kEther;
  if (w == "ip") return Proto::kIp;
  if (w == "ip6") return Proto::kIp6;
  if (w == "arp") return Proto::kArp;
  if (w == "rarp") return Proto::kRarp;
  if (w == "tcp") return Proto::kTcp;
  if (w == "udp") return Proto::kUdp;
  return std::nullopt;
}

std::optional<Type> TypeWord(std::string_view w) {
  if (w == "host") return Type::kHost;
  if (w == "net") return Type::kNet;
  if (w == "port") return Type::kPort;
  if (w == "portrange") return Type::kPortRange;
  return std::nullopt;
}

// Fills mask and masks addr for a prefix of `len` bits; false if the address
// has bits outside the prefix (libpcap rejects those).
bool SetPrefix(Primitive* p, int len, int bytes) {
  p->prefix_len = static_cast<uint8_t>(len);
  for (int i = 0; i < bytes; ++i) {
    int bits = len - i * 8;
    p->mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    if (p->addr[i] & ~p->mask[i]) return false;
  }
  return true;
}

bool BuildAddress(const Qual& q, const Value& v, Primitive* p) {
  bool net = q.type == Type::kNet;
  if (!net && v.prefix >= 0) return false;
  if (net && v.prefix < 0) return false;  // "net 10.0.0.0" and short forms: libpcap's business
  p->addr = v.addr;
  if (v.kind == ValueKind::kIpv4) {
    const uint8_t vias[] = {kViaIp | kViaArp | kViaRarp, 0, kViaIp, 0, kViaArp, kViaRarp};
    if (static_cast<int>(q.proto) >= 6 || !vias[static_cast<int>(q.proto)]) return false;
    p->test = Test::kHost4;
    p->via = vias[static_cast<int>(q.proto)];
    return SetPrefix(p, net ? v.prefix : 32, 4);
  }
  if (q.proto != Proto::kNone && q.proto != Proto::kIp6) return false;
  p->test = Test::kHost6;
  return SetPrefix(p, net ? v.prefix : 128, 16);
}

bool BuildPrimitive(const Qual& q, const Value& v, Primitive* p) {
  p->dir = q.dir;
  switch (q.type) {
    case Type::kNone:
    case Type::kHost:
      if (v.kind == ValueKind::kMac) {
        if (q.proto != Proto::kEther) return false;  // libpcap: "ethernet address used in non-ether expression"
        p->test = Test::kEther;
        p->addr = v.addr;
        return SetPrefix(p, 48, 6);
      }
      if (q.type == Type::kNone && !q.has_dir) return false;
      [[fallthrough]];
    case Type::kNet:
      if (v.kind != ValueKind::kIpv4 && v.kind != ValueKind::kIpv6) return false;
      return BuildAddress(q, v, p);
    case Type::kPort:
    case Type::kPortRange: {
      bool range = q.type == Type::kPortRange;
      if (v.kind != (range ? ValueKind::kRange : ValueKind::kNumber) || v.num > 65535) return false;
      if (q.proto != Proto::kNone && q.proto != Proto::kTcp && q.proto != Proto::kUdp) return false;
      p->test = Test::kPort;
      p->via = q.proto == Proto::kTcp ? kViaTcp : q.proto == Proto::kUdp ? kViaUdp : kViaTcp | kViaUdp | kViaSctp;
      p->value = static_cast<uint16_t>(range ? std::min(v.num, v.num2) : v.num);
      p->high = static_cast<uint16_t>(range ? std::max(v.num, v.num2) : v.num);
      return true;
    }
  }
  return false;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, FilterExpr* out) : toks_(std::move(tokens)), out_(out) {}

  bool Parse() {
    uint16_t root;
    if (!Expr(&root) || Peek().kind != Tok::kEnd) return false;
    out_->root = root;
    return true;
  }

 private:
  const Token& Peek(size_t ahead = 0) const { return toks_[std::min(pos_ + ahead, toks_.size() - 1)]; }
  const Token& Take() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }

  bool Node(FilterNode::Op op, uint16_t a, uint16_t b, uint16_t* out) {
    if (out_->nodes.size() >= 0xffff) return false;
    out_->nodes.push_back({op, a, b});
    *out = static_cast<uint16_t>(out_->nodes.size() - 1);
    return true;
  }

  bool Leaf(Primitive p, uint16_t* out) {
    if (depth_ > kMaxVlanDepth || out_->primitives.size() >= 0xffff) return false;
    p.depth = static_cast<uint8_t>(depth_);
    out_->max_depth = std::max(out_->max_depth, p.depth);
    if (p.test == Test::kEther || p.test == Test::kVlan || depth_ > 0) out_->ethernet_only = true;
    out_->primitives.push_back(p);
    return Node(FilterNode::kPrimitive, static_cast<uint16_t>(out_->primitives.size() - 1), 0, out);
  }

  bool Expr(uint16_t* node) {
    if (!Term(node)) return false;
    while (Peek().kind == Tok::kAnd || Peek().kind == Tok::kOr) {
      FilterNode::Op op = Take().kind == Tok::kAnd ? FilterNode::kAnd : FilterNode::kOr;
      uint16_t rhs;
      if (!(BareValueAhead() ? BareValue(&rhs) : Term(&rhs)) || !Node(op, *node, rhs, node)) return false;
    }
    return true;
  }

  bool BareValueAhead() const {
    size_t i = 0;
    while (Peek(i).kind == Tok::kNot) ++i;
    const Token& t = Peek(i);
    return t.kind == Tok::kWord && !ProtoWord(t.text) && !TypeWord(t.text) && t.text != "src" && t.text != "dst" &&
           ClassifyWord(t.text).kind != ValueKind::kNone;
  }

  // A value after and/or: the last primitive's qualifiers apply.
  bool BareValue(uint16_t* node) {
    if (Peek().kind == Tok::kNot) {
      Take();
      uint16_t inner;
      return BareValue(&inner) && Node(FilterNode::kNot, inner, 0, node);
    }
    Primitive p;
    return last_ && BuildPrimitive(*last_, ClassifyWord(Take().text), &p) && Leaf(p, node);
  }

  bool Term(uint16_t* node) {
    const Token& t = Take();
    if (t.kind == Tok::kNot) {
      uint16_t inner;
      return Term(&inner) && Node(FilterNode::kNot, inner, 0, node);
    }
    if (t.kind == Tok::kLParen) {
      bool ok = Expr(node) && Take().kind == Tok::kRParen;
      last_.reset();  // libpcap's qualifier after a group is not worth imitating
      return ok;
    }
    return t.kind == Tok::kWord && Primitive1(t.text, node);
  }

  bool Primitive1(std::string_view word, uint16_t* node) {
    last_.reset();
    Primitive p;
    if (word == "vlan") {
      p.test = Test::kVlan;
      uint32_t id;
      if (Peek().kind == Tok::kWord && Decimal(Peek().text, 4095, &id)) {
        Take();
        p.via = kVlanId;
        p.value = static_cast<uint16_t>(id);
      }
      bool ok = Leaf(p, node);
      ++depth_;
      return ok;
    }
    if (word == "icmp") {
      p.test = Test::kIpProto;
      p.value = kProtoIcmp;
      return Leaf(p, node);
    }
    Qual q;
    if (std::optional<Proto> proto = ProtoWord(word)) {
      q.proto = *proto;
      if (Peek().kind != Tok::kWord || !(TypeWord(Peek().text) || Peek().text == "src" || Peek().text == "dst"))
        return Protocol(q.proto, node);
      word = Take().text;
    }
    if (word == "src" || word == "dst") {
      q.dir = word == "src" ? Dir::kSrc : Dir::kDst;
      q.has_dir = true;
      if (Peek().kind != Tok::kWord) return false;
      word = Take().text;
    }
    if (std::optional<Type> type = TypeWord(word)) {
      q.type = *type;
      if (Peek().kind != Tok::kWord) return false;
      word = Take().text;
    }
    if (!QualifiedValue(q, word, &p)) return false;
    last_ = q;
    return Leaf(p, node);
  }

  bool QualifiedValue(const Qual& q, std::string_view word, Primitive* p) {
    Value v = ClassifyWord(word);
    if (q.type == Type::kNet && v.kind == ValueKind::kIpv4 && v.prefix < 0 && Peek().text == "mask") {
      Take();
      Value m = ClassifyWord(Take().text);
      if (m.kind != ValueKind::kIpv4 || m.prefix >= 0) return false;
      uint32_t mask = Load32(m.addr.data());
      if (mask & (~mask >> 1)) return false;  // not contiguous
      v.prefix = mask ? 32 - __builtin_ctz(mask) : 0;
    }
    return BuildPrimitive(q, v, p);
  }

  bool Protocol(Proto proto, uint16_t* node) {
    Primitive p;
    p.test = Test::kEtherType;
    switch (proto) {
      case Proto::kIp:
        p.value = kEtherIp;
        break;
      case Proto::kIp6:
        p.value = kEtherIp6;
        break;
      case Proto::kArp:
        p.value = kEtherArp;
        break;
      case Proto::kRarp:
        p.value = kEtherRarp;
        break;
      case Proto::kTcp:
        p.test = Test::kIpProto, p.value = kProtoTcp;
        break;
      case Proto::kUdp:
        p.test = Test::kIpProto, p.value = kProtoUdp;
        break;
      default:
        return false;
    }
    return Leaf(p, node);
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  FilterExpr* out_;
  int depth_ = 0;
  std::optional<Qual> last_;
};

}  // namespace

bool ParseFilterExpr(std::string_view text, FilterExpr* out) {
  *out = FilterExpr();
  std::vector<Token> tokens;
  if (!Tokenize(text, &tokens)) return false;
  Parser parser(std::move(tokens), out);
  return parser.Parse() && !out->nodes.empty();
}

}  // namespace pcapml
