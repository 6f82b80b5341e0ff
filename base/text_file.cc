#include "base/text_file.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pcapml {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string_view WithoutBom(std::string_view text) {
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  return text;
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF) and its code point, or 0.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  uint8_t b = byte(0);
  if (b < 0x80) return *cp = b, 1;
  if (b < 0xC2 || b > 0xF4) return 0;  // a continuation byte, an overlong lead or beyond U+10FFFF
  size_t n = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  *cp = b & (0x7F >> n);
  if (s.size() - i < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (byte(k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return n;
}

// Code points that show as nothing (or reorder what follows) in a terminal.
bool Invisible(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
         (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

}  // namespace

bool ReadTextFile(const std::string& path, std::string* text, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = path + ": " + strerror(errno);
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *text = s.str();
  return true;
}

LineReader::LineReader(std::string_view text) : text_(WithoutBom(text)) {}

bool LineReader::Next(std::string_view* line) {
  if (pos_ >= text_.size()) return false;
  // The first '\n', then a '\r' before it: two memchr scans (find_first_of
  // would call memchr once a character).
  size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  size_t cr = text_.substr(0, end).find('\r', pos_);
  if (cr != std::string_view::npos) end = cr;
  *line = text_.substr(pos_, end - pos_);
  pos_ = end + 1;
  if (end < text_.size() && text_[end] == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;  // CRLF
  ++line_;
  return true;
}

std::string WithLfLineEnds(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  LineReader lines(text);
  for (std::string_view line; lines.Next(&line);) {
    out += line;
    out += '\n';
  }
  return out;
}

std::string TextProblem(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return "contains a NUL byte";
  uint32_t cp;
  for (size_t i = 0, n; i < text.size(); i += n)
    if ((n = DecodeUtf8(text, i, &cp)) == 0) return "is not valid UTF-8";
  return "";
}

std::string Quoted(std::string_view text) {
  std::string out = "'";
  char buf[16];
  for (size_t i = 0; i < text.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(text, i, &cp);
    if (n == 0) {
      snprintf(buf, sizeof buf, "\\x%02X", static_cast<uint8_t>(text[i]));
      out += buf;
      ++i;
      continue;
    }
    switch (cp) {
      case 0:
        out += "\\0";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          snprintf(buf, sizeof buf, "\\x%02X", cp);
          out += buf;
        } else if (Invisible(cp)) {
          snprintf(buf, sizeof buf, "\\u{%04X}", cp);
          out += buf;
        } else {
          out.append(text, i, n);
        }
    }
    i += n;
  }
  return out + "'";
}

}  // namespace pcapml
