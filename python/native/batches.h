// pcapml.batches(): many samples at a time as numpy arrays, filled here.
#pragma once

#include <pybind11/pybind11.h>

namespace pcapml::native {

void DefineBatches(pybind11::module_& m);

}  // namespace pcapml::native
