// Shared helpers of the Python bindings (module dualtape._core).
#pragma once

#include "dualtape/objective.hpp"
#include "dualtape/tape.hpp"

#include <Eigen/Core>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

/// Copies a vector into a new NumPy array.
inline DoubleArray to_array(const Eigen::VectorXd& vector) {
  DoubleArray array(vector.size());
  std::copy(vector.data(), vector.data() + vector.size(), array.mutable_data());
  return array;
}

/// Builds the (data, indices, indptr) arrays of a CSR matrix from its row pointers,
/// its column indices and `data`, which already contains the values. Large value
/// arrays are thus written once, straight into NumPy memory.
inline py::tuple csr_with_data(const std::vector<std::int32_t>& row_ptr, const std::vector<std::int32_t>& col,
                               DoubleArray data) {
  IntArray indptr(row_ptr.size());
  std::copy(row_ptr.begin(), row_ptr.end(), indptr.mutable_data());
  IntArray indices(col.size());
  std::copy(col.begin(), col.end(), indices.mutable_data());
  return py::make_tuple(data, indices, indptr);
}

/// Builds the CSR arrays (data, indices, indptr) with the values copied from `values`
/// (as many as column indices).
inline py::tuple csr_arrays(const std::vector<std::int32_t>& row_ptr, const std::vector<std::int32_t>& col,
                            const double* values) {
  DoubleArray data(col.size());
  std::copy(values, values + col.size(), data.mutable_data());
  return csr_with_data(row_ptr, col, data);
}

/// A Python callback of a solver loop: callback(info, x) returns 0 to continue or 1 to stop.
using PythonCallback = std::function<int(py::dict, DoubleArray)>;

/// Wraps a Python callback for a C++ solver loop that runs without the GIL. After
/// each iteration it takes the GIL, returns 2 (interrupt) on Ctrl-C, re-raises
/// any other pending Python error, and then calls `callback` (if set) with the
/// dict that `describe(iteration, info)` fills and the current x. The wrapper refers
/// to `callback`, which must outlive it. It holds no copy, because copying a Python
/// function needs the GIL, which the solver loop does not hold.
template <typename Iteration, typename Describe>
std::function<int(const Iteration&, const Eigen::VectorXd&)> wrap_callback(const PythonCallback& callback,
                                                                          Describe describe) {
  return [&callback, describe](const Iteration& iteration, const Eigen::VectorXd& x) -> int {
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) {
      if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        PyErr_Clear();
        return 2;
      }
      throw py::error_already_set();
    }
    if (!callback) return 0;
    py::dict info;
    describe(iteration, info);
    return callback(info, to_array(x));
  };
}

// Each binds one part of the module; defined in its own source file.
void bind_tape(py::module_& m);
void bind_objective(py::module_& m);
void bind_least_squares(py::module_& m);

}  // namespace dualtape::python
