// pcapml._native: the sampler's reading done by pcapml's C++ reader
// (pcapio/reader.h). pcapml/sampler.py decides what to ask; this module
// indexes and reads. See python/README.md.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "batches.h"
#include "capture.h"
#include "packets.h"
#include "source.h"

namespace py = pybind11;

namespace pcapml::native {
namespace {

py::object Steal(PyObject* o) {
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

// Samples of one file in the order of their first packet, as Packets.
class Samples {
 public:
  Samples(py::object path, std::string fs_path, bool grouped, py::object sids, py::object keep, uint64_t limit,
          py::object range)
      : source_(std::move(path), std::move(fs_path), grouped, std::move(sids), std::move(keep)), limit_(limit) {
    if (!range.is_none()) {  // (start, stop, prefix_end, first_idx) of a grouped file, as cuts() gives them
      auto r = range.cast<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>>();
      source_.capture()->SetRange(std::get<0>(r), std::get<1>(r), std::get<2>(r), std::get<3>(r));
    }
  }

  std::shared_ptr<Packets> Next() {
    std::shared_ptr<SampleRuns> s;
    int code;
    source_.Next(&s, &code);
    if (!s) throw py::stop_iteration();
    return std::make_shared<Packets>(source_.capture(), std::move(s), limit_);
  }

 private:
  SampleSource source_;
  uint64_t limit_;
};

uint64_t Index(const Packets& p, int64_t i) {
  int64_t n = static_cast<int64_t>(p.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) throw py::index_error("sample index out of range");
  return static_cast<uint64_t>(i);
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "pcapml's C++ reader for the Python sampler (see pcapml/sampler.py)";
  if (!InitIteratorType(m.ptr())) throw py::error_already_set();

  py::class_<Samples>(m, "Samples")
      .def(py::init<py::object, std::string, bool, py::object, py::object, uint64_t, py::object>(), py::arg("path"),
           py::arg("fs_path"), py::arg("grouped"), py::arg("sids") = py::none(), py::arg("keep") = py::none(),
           py::arg("limit") = 0, py::arg("range") = py::none())
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &Samples::Next);

  py::class_<Packets, std::shared_ptr<Packets>>(m, "Packets")
      .def("__len__", &Packets::size)
      .def("__getitem__", [](Packets& p, int64_t i) { return Steal(p.Item(Index(p, i))); })
      .def("__iter__", [](py::object self) { return Steal(NewIterator(self.ptr(), self.cast<Packets*>())); })
      .def_property_readonly("sid", [](const Packets& p) { return p.sample().sid; })
      .def_property_readonly(
          "label",
          [](const Packets& p) {
            return py::reinterpret_borrow<py::object>(p.capture().comment(p.sample().first_comment).metadata);
          })
      .def_property_readonly("link_type", [](const Packets& p) { return p.LinkTypeOf(0); })
      .def("link_type_of", [](const Packets& p, int64_t i) { return p.LinkTypeOf(Index(p, i)); })
      .def("link_type_changes",
           [](const Packets& p) {  // [(first packet, link type)] where the link type changes
             py::list out;
             int last = -1;
             uint64_t first = 0;
             for (uint32_t r = p.sample().first; r != kNoRun && first < p.size(); r = p.capture().run(r).next) {
               const Run& run = p.capture().run(r);
               int link = p.capture().interfaces()[run.interface].link_type;
               if (link != last) out.append(py::make_tuple(first, link));
               last = link;
               first += run.count;
             }
             return out;
           })
      .def("ts_ns", [](Packets& p, int64_t i) { return Steal(p.ItemTsNs(Index(p, i))); })
      .def("timestamps_ns", [](Packets& p) { return Steal(p.Timestamps()); });

  // (prefix_end, end, [(offset, first packet number)]): where a grouped file
  // can be cut into byte ranges of whole samples, `every` bytes or more each.
  m.def("cuts", [](py::object path, std::string fs_path, uint64_t every) {
    Capture c(path.ptr(), std::move(fs_path));
    std::vector<std::pair<uint64_t, uint64_t>> cuts;
    uint64_t prefix_end = 0, end = 0;
    if (!c.Open() || !c.Cuts(every, &cuts, &prefix_end, &end)) throw py::error_already_set();
    return py::make_tuple(prefix_end, end, cuts);
  });

  DefineBatches(m);
}

}  // namespace pcapml::native
