// The extension module dualtape._core: each part is bound in its own source file.
#include "bindings.hpp"

#include "dualtape/ops.hpp"

#include <pybind11/stl.h>

using namespace dualtape;
using namespace dualtape::python;

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of dualtape: tapes, element energies, objectives and sparse Newton";

  py::list names;
  for (int i = 0; i < kOpCount; ++i) names.append(op_name(Op(i)));
  m.attr("OP_NAMES") = names;

  m.def("set_num_threads", &set_thread_count, py::arg("count"),
        "Set the number of threads for element evaluation (0: all cores).");
  m.def("get_num_threads", &thread_count, "Number of threads used for element evaluation.");

  bind_tape(m);
  bind_objective(m);
  bind_least_squares(m);
}
