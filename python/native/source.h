// The samples of one file, in the order of their first packet, as the
// sampler's options select them: from an index of the whole file, or read on
// sample by sample from a file grouped by sample.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <unordered_set>
#include <vector>

#include "capture.h"

namespace pcapml::native {

class SampleSource {
 public:
  // sids: None or a collection of sampleIDs to keep. code_of: None (every
  // sample gets code 0) or called once per distinct metadata string with it,
  // returning the sample's code, or a negative number to leave it out.
  SampleSource(pybind11::object path, std::string fs_path, bool grouped, pybind11::object sids,
               pybind11::object code_of);

  // The next selected sample and its code; *out is null at the end. Throws
  // pybind11::error_already_set on FormatError and OSError.
  void Next(std::shared_ptr<SampleRuns>* out, int* code);
  const std::shared_ptr<Capture>& capture() const { return capture_; }

 private:
  bool Wanted(const SampleRuns& s, int* code);

  std::shared_ptr<Capture> capture_;
  bool grouped_;
  bool opened_ = false;
  std::shared_ptr<std::vector<SampleRuns>> indexed_;  // the samples, kept while any is used
  size_t next_ = 0;
  bool all_sids_ = true;
  std::unordered_set<uint64_t> sids_;
  pybind11::object code_of_;
  pybind11::dict codes_;            // metadata -> code
  std::vector<int> comment_codes_;  // comment id -> code, kUnknown until asked
  static constexpr int kUnknown = INT32_MIN;
};

}  // namespace pcapml::native
