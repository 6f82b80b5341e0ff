#include "base/text_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pcapml {

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

}  // namespace pcapml
