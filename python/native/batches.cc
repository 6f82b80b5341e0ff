#include "batches.h"

#include <pybind11/numpy.h>

#include <algorithm>
#include <cstring>

#include "packets.h"
#include "source.h"

namespace py = pybind11;

namespace pcapml::native {
namespace {

// Batches of at most `samples` samples and `packets` packets; a sample that
// does not fit in a batch's packets goes on in the next batch.
class Batches {
 public:
  Batches(py::object path, std::string fs_path, bool grouped, py::object sids, py::object code_of, uint64_t limit,
          size_t samples, size_t packets, size_t nbytes)
      : source_(std::move(path), std::move(fs_path), grouped, std::move(sids), std::move(code_of)),
        limit_(limit),
        samples_(samples),
        packets_(packets),
        nbytes_(nbytes) {}

  py::dict Next();

 private:
  SampleSource source_;
  uint64_t limit_;
  size_t samples_, packets_, nbytes_;
  std::shared_ptr<Packets> current_;  // the sample being put into batches, where it is
  Packets::Cursor cursor_{};
  int code_ = 0;
};

template <typename T>
py::object Head(const py::array_t<T>& a, size_t n) {
  return a[py::slice(0, static_cast<py::ssize_t>(n), 1)];
}

py::dict Batches::Next() {
  py::array_t<uint64_t> sample_id(samples_);
  py::array_t<int32_t> label(samples_), link_type(samples_);
  py::array_t<int64_t> sample_packets(samples_), ts_ns(packets_);
  py::array_t<uint32_t> caplen(packets_);
  py::array_t<int32_t> sample_index(packets_);
  py::array_t<uint8_t> data({packets_, nbytes_});
  uint64_t* sid = sample_id.mutable_data();
  int32_t *code = label.mutable_data(), *link = link_type.mutable_data(), *in = sample_index.mutable_data();
  int64_t *count = sample_packets.mutable_data(), *ts = ts_ns.mutable_data();
  uint32_t* len = caplen.mutable_data();
  uint8_t* bytes = data.mutable_data();
  size_t s = 0, r = 0;
  Packet p;
  while (s < samples_ && r < packets_) {
    if (!current_) {
      std::shared_ptr<SampleRuns> next;
      source_.Next(&next, &code_);
      if (!next) break;
      current_ = std::make_shared<Packets>(source_.capture(), std::move(next), limit_);
      cursor_ = current_->Begin();
    }
    sid[s] = current_->sample().sid;
    code[s] = code_;
    link[s] = current_->LinkTypeOf(0);
    size_t first = r;
    while (cursor_.i < current_->size() && r < packets_) {
      if (!current_->Read(&cursor_, &p)) throw py::error_already_set();
      ts[r] = p.ts_ns;
      len[r] = p.caplen;
      in[r] = static_cast<int32_t>(s);
      size_t n = std::min<size_t>(p.caplen, nbytes_);
      uint8_t* row = bytes + r * nbytes_;
      memcpy(row, p.data, n);
      memset(row + n, 0, nbytes_ - n);
      ++r;
    }
    count[s++] = static_cast<int64_t>(r - first);
    if (cursor_.i == current_->size()) current_.reset();
  }
  if (s == 0) throw py::stop_iteration();
  py::dict out;
  out["sample_id"] = Head(sample_id, s);
  out["label"] = Head(label, s);
  out["link_type"] = Head(link_type, s);
  out["sample_packets"] = Head(sample_packets, s);
  out["sample_index"] = Head(sample_index, r);
  out["ts_ns"] = Head(ts_ns, r);
  out["caplen"] = Head(caplen, r);
  out["data"] = Head(data, r);
  return out;
}

}  // namespace

void DefineBatches(py::module_& m) {
  py::class_<Batches>(m, "Batches")
      .def(py::init<py::object, std::string, bool, py::object, py::object, uint64_t, size_t, size_t, size_t>(),
           py::arg("path"), py::arg("fs_path"), py::arg("grouped"), py::arg("sids"), py::arg("code_of"),
           py::arg("limit"), py::arg("samples"), py::arg("packets"), py::arg("nbytes"))
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &Batches::Next);
}

}  // namespace pcapml::native
