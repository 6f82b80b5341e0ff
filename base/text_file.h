// Reading the text files users write (rules, labels, configs).
#pragma once

#include <string>

namespace pcapml {

// Reads a whole file into *text; the error names the file.
bool ReadTextFile(const std::string& path, std::string* text, std::string* err);

}  // namespace pcapml
