#include "packets.h"

#include <algorithm>

namespace pcapml::native {

Packets::Packets(std::shared_ptr<Capture> capture, std::shared_ptr<const SampleRuns> sample, uint64_t limit)
    : capture_(std::move(capture)), sample_(std::move(sample)) {
  n_ = limit ? std::min(limit, sample_->packets) : sample_->packets;
  cursor_ = Begin();
}

Packets::Cursor Packets::Begin() const {
  return {sample_->first, 0, sample_->first == kNoRun ? 0 : capture_->run(sample_->first).offset, 0};
}

bool Packets::Read(Cursor* c, Packet* p) const {
  const Run& run = capture_->run(c->run);
  uint64_t next;
  if (!capture_->ReadPacket(run, c->j, c->offset, p, &next)) return false;
  ++c->i;
  if (++c->j < run.count) {
    c->offset = next;
  } else if ((c->run = run.next) != kNoRun) {
    c->j = 0;
    c->offset = capture_->run(c->run).offset;
  }
  return true;
}

bool Packets::Seek(Cursor* c, uint64_t i) const {
  if (i < c->i) *c = Begin();
  // Whole runs are skipped by their counts, without reading.
  while (c->run != kNoRun && i - c->i >= capture_->run(c->run).count - c->j) {
    const Run& run = capture_->run(c->run);
    c->i += run.count - c->j;
    c->j = 0;
    if ((c->run = run.next) != kNoRun) c->offset = capture_->run(c->run).offset;
  }
  Packet p;
  while (c->i < i)
    if (!Read(c, &p)) return false;
  return true;
}

PyObject* Packets::TsNs(const Packet& p) const {
  if (!p.has_timestamp) Py_RETURN_NONE;
  return PyLong_FromLongLong(p.ts_ns);
}

PyObject* Packets::Row(const Cursor& at, const Packet& p) const {
  const Run& run = capture_->run(at.run);
  const Comment& c = capture_->comment(run.comment);
  PyObject* ts;
  if (!p.has_timestamp) {
    ts = Py_NewRef(Py_None);
  } else {
    ts = PyFloat_FromDouble(static_cast<double>(p.ts_ns) / 1e9);  // as Python's ts_ns / 1e9
  }
  PyObject* idx = PyLong_FromUnsignedLongLong(run.idx + at.j);
  PyObject* data = PyBytes_FromStringAndSize(reinterpret_cast<const char*>(p.data), p.caplen);
  PyObject* row = PyTuple_New(5);
  if (ts == nullptr || idx == nullptr || data == nullptr || row == nullptr) {
    Py_XDECREF(ts);
    Py_XDECREF(idx);
    Py_XDECREF(data);
    Py_XDECREF(row);
    return nullptr;
  }
  PyTuple_SET_ITEM(row, 0, idx);
  PyTuple_SET_ITEM(row, 1, Py_NewRef(c.sid_obj));
  PyTuple_SET_ITEM(row, 2, Py_NewRef(c.metadata));
  PyTuple_SET_ITEM(row, 3, ts);
  PyTuple_SET_ITEM(row, 4, data);
  return row;
}

bool Packets::ReadItem(uint64_t i, Cursor* at, Packet* p) {
  if (!Seek(&cursor_, i)) return false;
  *at = cursor_;
  return Read(&cursor_, p);
}

PyObject* Packets::Item(uint64_t i) {
  Cursor at;
  Packet p;
  return ReadItem(i, &at, &p) ? Row(at, p) : nullptr;
}

PyObject* Packets::ItemTsNs(uint64_t i) {
  Cursor at;
  Packet p;
  return ReadItem(i, &at, &p) ? TsNs(p) : nullptr;
}

PyObject* Packets::Timestamps() {
  PyObject* out = PyList_New(static_cast<Py_ssize_t>(n_));
  if (out == nullptr) return nullptr;
  Cursor c = Begin();
  Packet p;
  for (uint64_t i = 0; i < n_; ++i) {
    PyObject* ts = Read(&c, &p) ? TsNs(p) : nullptr;
    if (ts == nullptr) return Py_DECREF(out), nullptr;
    PyList_SET_ITEM(out, static_cast<Py_ssize_t>(i), ts);
  }
  return out;
}

int Packets::LinkTypeOf(uint64_t i) const {
  for (uint32_t r = sample_->first; r != kNoRun; r = capture_->run(r).next) {
    const Run& run = capture_->run(r);
    if (i < run.count) return capture_->interfaces()[run.interface].link_type;
    i -= run.count;
  }
  return -1;
}

namespace {

struct Iterator {
  PyObject_HEAD PyObject* owner;
  Packets* packets;
  Packets::Cursor c;
};

PyTypeObject* iterator_type = nullptr;

void IteratorDealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_XDECREF(reinterpret_cast<Iterator*>(self)->owner);
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* IteratorNext(PyObject* self) {
  Iterator* it = reinterpret_cast<Iterator*>(self);
  if (it->c.i >= it->packets->size()) return nullptr;  // StopIteration
  Packets::Cursor at = it->c;
  Packet p;
  if (!it->packets->Read(&it->c, &p)) return nullptr;
  return it->packets->Row(at, p);
}

PyObject* IteratorLengthHint(PyObject* self, PyObject*) {
  Iterator* it = reinterpret_cast<Iterator*>(self);
  return PyLong_FromUnsignedLongLong(it->packets->size() - it->c.i);
}

PyMethodDef iterator_methods[] = {
    {"__length_hint__", IteratorLengthHint, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot iterator_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(IteratorDealloc)},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(IteratorNext)},
    {Py_tp_methods, iterator_methods},
    {0, nullptr},
};

PyType_Spec iterator_spec = {"pcapml._native.PacketIterator", sizeof(Iterator), 0, Py_TPFLAGS_DEFAULT, iterator_slots};

}  // namespace

bool InitIteratorType(PyObject* module) {
  iterator_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&iterator_spec));
  return iterator_type != nullptr;
}

PyObject* NewIterator(PyObject* owner, Packets* packets) {
  Iterator* it = PyObject_New(Iterator, iterator_type);
  if (it == nullptr) return nullptr;
  it->owner = Py_NewRef(owner);
  it->packets = packets;
  it->c = packets->Begin();
  return reinterpret_cast<PyObject*>(it);
}

}  // namespace pcapml::native
