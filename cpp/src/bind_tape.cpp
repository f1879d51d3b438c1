// Python bindings of Tape: evaluation modes at one point.
#include "bindings.hpp"

#include "dualtape/interpreter.hpp"

#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dualtape::python {

namespace {

std::shared_ptr<Tape> make_tape(int n_inputs, int n_params, const IntArray& ops, const IntArray& a, const IntArray& b,
                                const IntArray& c, const DoubleArray& k, const std::vector<int>& outputs) {
  const py::ssize_t n = ops.size();
  if (a.size() != n || b.size() != n || c.size() != n || k.size() != n)
    throw std::invalid_argument("ops, a, b, c and k must have the same length");
  std::vector<Instruction> code(n);
  for (py::ssize_t i = 0; i < n; ++i) {
    const int op = ops.data()[i];
    if (op < 0 || op >= kOpCount) throw std::invalid_argument("unknown operation code " + std::to_string(op));
    code[i] = Instruction{Op(op), a.data()[i], b.data()[i], c.data()[i], k.data()[i]};
  }
  return std::make_shared<Tape>(n_inputs, n_params, code, outputs);
}

// The same tape from Python lists, as the eager recorder of dualtape.autodiff builds
// them: one list per field, converted without intermediate NumPy arrays.
std::shared_ptr<Tape> make_tape_from_lists(int n_inputs, int n_params, const std::vector<int>& ops,
                                           const std::vector<int>& a, const std::vector<int>& b,
                                           const std::vector<int>& c, const std::vector<double>& k,
                                           const std::vector<int>& outputs) {
  const size_t n = ops.size();
  if (a.size() != n || b.size() != n || c.size() != n || k.size() != n)
    throw std::invalid_argument("ops, a, b, c and k must have the same length");
  std::vector<Instruction> code(n);
  for (size_t i = 0; i < n; ++i) {
    if (ops[i] < 0 || ops[i] >= kOpCount) throw std::invalid_argument("unknown operation code " + std::to_string(ops[i]));
    code[i] = Instruction{Op(ops[i]), a[i], b[i], c[i], k[i]};
  }
  return std::make_shared<Tape>(n_inputs, n_params, code, outputs);
}

void require_finite(const DoubleArray& array, const char* name) {
  const double* data = array.data();
  for (py::ssize_t i = 0; i < array.size(); ++i)
    if (!std::isfinite(data[i]))
      throw std::invalid_argument(std::string(name) + " contains NaN or inf at index " + std::to_string(i));
}

// Value and gradient of output 0 of a single-output tape by one reverse sweep.
std::pair<double, DoubleArray> value_and_gradient(const Tape& t, const DoubleArray& x, const DoubleArray& p) {
  if (t.n_outputs() != 1)
    throw std::invalid_argument("the gradient needs a single output; this tape has " + std::to_string(t.n_outputs()));
  require_length(x, t.n_inputs(), "x");
  require_length(p, t.n_params(), "p");
  require_finite(x, "x");
  require_finite(p, "p");
  DoubleArray gradient(t.n_inputs());
  double value = 0.0;
  const double seed = 1.0;
  // Reused across calls so that a small gradient allocates only its result.
  thread_local Workspace ws;
  vector_jacobian(t, x.data(), p.data(), &seed, &value, gradient.mutable_data(), ws);
  return {value, gradient};
}

const double* params_pointer(const Tape& tape, const DoubleArray& p) {
  require_length(p, tape.n_params(), "p");
  return p.data();
}

}  // namespace

void bind_tape(py::module_& m) {
  py::class_<Tape, std::shared_ptr<Tape>>(m, "Tape")
      .def(py::init(&make_tape), py::arg("n_inputs"), py::arg("n_params"), py::arg("ops"), py::arg("a"),
           py::arg("b"), py::arg("c"), py::arg("k"), py::arg("outputs"))
      .def_static("from_lists", &make_tape_from_lists, py::arg("n_inputs"), py::arg("n_params"), py::arg("ops"),
                  py::arg("a"), py::arg("b"), py::arg("c"), py::arg("k"), py::arg("outputs"),
                  "Build a tape from Python lists of instruction fields.")
      .def("value_and_gradient", &value_and_gradient, py::arg("x"), py::arg("p"),
           "Value and gradient of a single-output tape; x and p must be finite.")
      .def(
          "gradient", [](const Tape& t, const DoubleArray& x, const DoubleArray& p) { return value_and_gradient(t, x, p).second; },
          py::arg("x"), py::arg("p"), "Gradient of a single-output tape; x and p must be finite.")
      .def_property_readonly("n_inputs", &Tape::n_inputs)
      .def_property_readonly("n_params", &Tape::n_params)
      .def_property_readonly("n_outputs", &Tape::n_outputs)
      .def_property_readonly("size", &Tape::size)
      .def_property_readonly("n_operations", &Tape::n_operations)
      .def_property_readonly("outputs", &Tape::outputs)
      .def_property_readonly("code",
                             [](const Tape& t) {
                               const auto& code = t.code();
                               const py::ssize_t n = py::ssize_t(code.size());
                               IntArray ops(n), a(n), b(n), c(n);
                               DoubleArray k(n);
                               for (py::ssize_t i = 0; i < n; ++i) {
                                 ops.mutable_data()[i] = int(code[i].op);
                                 a.mutable_data()[i] = code[i].a;
                                 b.mutable_data()[i] = code[i].b;
                                 c.mutable_data()[i] = code[i].c;
                                 k.mutable_data()[i] = code[i].k;
                               }
                               return py::make_tuple(ops, a, b, c, k);
                             })
      .def(
          "evaluate",
          [](const Tape& t, const DoubleArray& x, const DoubleArray& p) {
            require_length(x, t.n_inputs(), "x");
            DoubleArray out(t.n_outputs());
            Workspace ws;
            evaluate(t, x.data(), params_pointer(t, p), out.mutable_data(), ws);
            return out;
          },
          py::arg("x"), py::arg("p"), "Values of all outputs at x.")
      .def(
          "vjp",
          [](const Tape& t, const DoubleArray& x, const DoubleArray& p, const DoubleArray& w) {
            require_length(x, t.n_inputs(), "x");
            require_length(w, t.n_outputs(), "w");
            DoubleArray out(t.n_outputs()), result(t.n_inputs());
            Workspace ws;
            vector_jacobian(t, x.data(), params_pointer(t, p), w.data(), out.mutable_data(), result.mutable_data(), ws);
            return py::make_tuple(out, result);
          },
          py::arg("x"), py::arg("p"), py::arg("w"), "Outputs and wᵀJ by the reverse sweep.")
      .def(
          "jvp",
          [](const Tape& t, const DoubleArray& x, const DoubleArray& p, const DoubleArray& tangents) {
            require_length(x, t.n_inputs(), "x");
            if (tangents.ndim() != 2 || tangents.shape(0) != t.n_inputs())
              throw std::invalid_argument("tangents: expected shape (" + std::to_string(t.n_inputs()) + ", d)");
            const int directions = int(tangents.shape(1));
            DoubleArray out(t.n_outputs());
            DoubleArray jt({py::ssize_t(t.n_outputs()), py::ssize_t(directions)});
            jacobian_vector(t, x.data(), params_pointer(t, p), tangents.data(), directions, out.mutable_data(),
                            jt.mutable_data());
            return py::make_tuple(out, jt);
          },
          py::arg("x"), py::arg("p"), py::arg("tangents"), "Outputs and J·T by forward mode (Dual numbers).")
      .def(
          "hessian",
          [](const Tape& t, const DoubleArray& x, const DoubleArray& p, int output) {
            require_length(x, t.n_inputs(), "x");
            if (output < 0 || output >= t.n_outputs())
              throw std::out_of_range("output " + std::to_string(output) + " is outside [0, " +
                                      std::to_string(t.n_outputs()) + ")");
            const int n = t.n_inputs();
            DoubleArray g(n), H({py::ssize_t(n), py::ssize_t(n)});
            double f = 0.0;
            const double* pp = params_pointer(t, p);
            // One point: the runtime-sized Dual is fast enough and keeps this file
            // from compiling the fixed-size variants a second time.
            HessianWorkspace<Eigen::Dynamic> ws;
            f = hessian_point<Eigen::Dynamic>(t, output, x.data(), pp, g.mutable_data(), H.mutable_data(), ws);
            return py::make_tuple(f, g, H);
          },
          py::arg("x"), py::arg("p"), py::arg("output") = 0, "Value, gradient and Hessian by forward-over-reverse.")
      .def(
          "sweep",
          [](const Tape& t, const DoubleArray& x, const DoubleArray& p, const DoubleArray& w) {
            require_length(x, t.n_inputs(), "x");
            require_length(w, t.n_outputs(), "w");
            DoubleArray values(t.size()), adjoints(t.size());
            slot_adjoints(t, x.data(), params_pointer(t, p), w.data(), values.mutable_data(), adjoints.mutable_data());
            return py::make_tuple(values, adjoints);
          },
          py::arg("x"), py::arg("p"), py::arg("w"), "Values and adjoints of every slot (for graph pictures).");

}

}  // namespace dualtape::python
