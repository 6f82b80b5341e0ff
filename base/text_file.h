// Reading the text files users write (rules, labels, configs): line ends of
// any platform and a UTF-8 byte order mark read alike in every one, and one
// check for the text that ends up in a label, a filter or a message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pcapml {

// Reads a whole file into *text; the error names the file.
bool ReadTextFile(const std::string& path, std::string* text, std::string* err);

// Splits text into lines at LF, CRLF or a lone CR, after a leading UTF-8 BOM;
// the line ends are not part of the lines. A final line end adds no line.
class LineReader {
 public:
  explicit LineReader(std::string_view text);
  // The next line; false at the end of the text.
  bool Next(std::string_view* line);
  // 1-based number of the line Next returned last.
  size_t line_number() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

// The text with a leading BOM dropped and every line end made LF, line
// numbers unchanged: for parsers (TOML) that take only LF and CRLF.
std::string WithLfLineEnds(std::string_view text);

// Why `text` cannot be a label, filter or meta value ("contains a NUL byte",
// "is not valid UTF-8"), or "" if it can: a NUL cuts a C string short and a
// comment must be UTF-8 (pcapng).
std::string TextProblem(std::string_view text);

// `text` in single quotes, with what would be invisible or ambiguous in a
// message written as escapes: \0 \t \r \n \\, other control bytes and bytes
// that are not UTF-8 as \xNN, invisible code points (BOM, zero-width and
// direction marks) as \u{FEFF}.
std::string Quoted(std::string_view text);

}  // namespace pcapml
