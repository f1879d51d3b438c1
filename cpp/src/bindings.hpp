// Shared helpers of the Python bindings (module dualtape._core).
#pragma once

#include "dualtape/objective.hpp"
#include "dualtape/tape.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace dualtape::python {

namespace py = pybind11;

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using Int64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

inline void require_length(const DoubleArray& array, py::ssize_t expected, const char* name) {
  if (array.size() != expected)
    throw std::invalid_argument(std::string(name) + ": expected " + std::to_string(expected) + " values, got " +
                                std::to_string(array.size()));
}

inline py::tuple csr_tuple(const CsrPattern& pattern, std::vector<double>&& values) {
  IntArray indptr(pattern.row_ptr.size());
  std::copy(pattern.row_ptr.begin(), pattern.row_ptr.end(), indptr.mutable_data());
  IntArray indices(pattern.col.size());
  std::copy(pattern.col.begin(), pattern.col.end(), indices.mutable_data());
  DoubleArray data(values.size());
  std::copy(values.begin(), values.end(), data.mutable_data());
  return py::make_tuple(data, indices, indptr);
}

// Each binds one part of the module; defined in its own source file.
void bind_tape(py::module_& m);
void bind_objective(py::module_& m);
void bind_least_squares(py::module_& m);

}  // namespace dualtape::python
