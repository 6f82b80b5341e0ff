// CSV per RFC 4180, for metadata.csv and summary --csv.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pcapml {

// Quotes a field when it holds a comma, quote, CR or LF.
std::string CsvField(std::string_view field);

// Joins fields into one record ending in "\n" (as tshark and Zeek write);
// quoting follows RFC 4180.
std::string CsvRow(const std::vector<std::string>& fields);

}  // namespace pcapml
