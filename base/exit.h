// Exit statuses scripts can rely on, and the one way a command reports the
// error that ends it.
#pragma once

#include <string>

namespace pcapml {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the job failed (bad input, I/O error)
constexpr int kExitUsage = 2;    // the command line was wrong

// Prints "pcapml: <message>" on stderr and returns kExitFailure.
int Fail(const std::string& message);

}  // namespace pcapml
