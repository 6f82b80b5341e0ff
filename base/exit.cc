#include "base/exit.h"

#include <cstdio>

namespace pcapml {

int Fail(const std::string& message) {
  fprintf(stderr, "pcapml: %s\n", message.c_str());
  return kExitFailure;
}

}  // namespace pcapml
