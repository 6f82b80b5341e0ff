// A sample's packets, read from the file when they are used: what
// pcapml.Sample holds when the native module is there. Rows are the seed's
// (idx, sid, label, ts, pkt_buf) tuples.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <memory>

#include "capture.h"

namespace pcapml::native {

class Packets {
 public:
  // The sample's first `limit` packets (all if limit is 0).
  Packets(std::shared_ptr<Capture> capture, std::shared_ptr<const SampleRuns> sample, uint64_t limit);

  // A place in the sample: packet j of run `run` (in Capture::run()), whose
  // block is at `offset`; packet i of the sample.
  struct Cursor {
    uint32_t run;
    uint32_t j;
    uint64_t offset;
    uint64_t i;
  };

  uint64_t size() const { return n_; }
  const SampleRuns& sample() const { return *sample_; }
  Capture& capture() const { return *capture_; }
  Cursor Begin() const;
  // Reads the packet at *c (c->i < size()) and steps past it; false with an exception set.
  bool Read(Cursor* c, Packet* p) const;
  // Moves *c to packet i, reading the blocks it skips within a run.
  bool Seek(Cursor* c, uint64_t i) const;
  // The seed's tuple for the packet `at` (the cursor before Read) that Read gave.
  PyObject* Row(const Cursor& at, const Packet& p) const;
  // Exact timestamp of a packet Read gave, or None (an SPB has none).
  PyObject* TsNs(const Packet& p) const;

  // Packet i (0 <= i < size()) through the cursor kept for indexing, so that
  // reading i, i+1, ... costs one block each. New reference, or null.
  PyObject* Item(uint64_t i);
  PyObject* ItemTsNs(uint64_t i);
  PyObject* Timestamps();
  int LinkTypeOf(uint64_t i) const;

 private:
  bool ReadItem(uint64_t i, Cursor* at, Packet* p);

  std::shared_ptr<Capture> capture_;
  std::shared_ptr<const SampleRuns> sample_;
  uint64_t n_;
  Cursor cursor_;
};

// Creates the iterator type (once, at module import); false with an exception set.
bool InitIteratorType(PyObject* module);
// An iterator over packets [0, size()) of `packets`, which `owner` (a Python object) keeps alive.
PyObject* NewIterator(PyObject* owner, Packets* packets);

}  // namespace pcapml::native
