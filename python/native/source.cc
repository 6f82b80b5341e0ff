#include "source.h"

namespace py = pybind11;

namespace pcapml::native {

SampleSource::SampleSource(py::object path, std::string fs_path, bool grouped, py::object sids, py::object code_of)
    : capture_(std::make_shared<Capture>(path.ptr(), std::move(fs_path))),
      grouped_(grouped),
      code_of_(std::move(code_of)) {
  if (!sids.is_none()) {
    all_sids_ = false;
    for (py::handle sid : sids) sids_.insert(sid.cast<uint64_t>());
  }
}

bool SampleSource::Wanted(const SampleRuns& s, int* code) {
  if (!all_sids_ && !sids_.count(s.sid)) return false;
  if (code_of_.is_none()) {
    *code = 0;
    return true;
  }
  uint32_t id = s.first_comment;
  if (comment_codes_.size() <= id) comment_codes_.resize(id + 1, kUnknown);
  if (comment_codes_[id] == kUnknown) {  // once per comment, and once per metadata string
    py::handle metadata = capture_->comment(id).metadata;
    PyObject* known = PyDict_GetItemWithError(codes_.ptr(), metadata.ptr());
    if (known == nullptr && PyErr_Occurred()) throw py::error_already_set();
    py::object value = known ? py::reinterpret_borrow<py::object>(known) : code_of_(metadata);
    if (!known) codes_[metadata] = value;
    comment_codes_[id] = value.cast<int>();
  }
  *code = comment_codes_[id];
  return *code >= 0;
}

void SampleSource::Next(std::shared_ptr<SampleRuns>* out, int* code) {
  if (!opened_) {
    opened_ = true;
    indexed_ = std::make_shared<std::vector<SampleRuns>>();
    if (!capture_->Open() || (!grouped_ && !capture_->IndexAll(indexed_.get()))) throw py::error_already_set();
  }
  for (;;) {
    if (grouped_) {
      if (!capture_->NextGrouped(out)) throw py::error_already_set();
    } else if (next_ < indexed_->size()) {
      *out = std::shared_ptr<SampleRuns>(indexed_, &(*indexed_)[next_++]);
    } else {
      out->reset();
    }
    if (!*out || Wanted(**out, code)) return;
  }
}

}  // namespace pcapml::native
