// Python bindings of Tape: evaluation modes at one point.
#include "bindings.hpp"

#include "dualtape/interpreter.hpp"

#include <pybind11/stl.h>

#include <cmath>
#include <limits>
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

// Read one integer field of a flat instruction list, which must be a Python int.
std::int32_t instruction_field(PyObject* item, py::ssize_t index) {
  const long value = PyLong_AsLong(item);
  if (value == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error("code[" + std::to_string(index) + "] must be an integer, got " +
                         std::string(Py_TYPE(item)->tp_name));
  }
  if (value < std::numeric_limits<std::int32_t>::min() || value > std::numeric_limits<std::int32_t>::max())
    throw std::out_of_range("code[" + std::to_string(index) + "] = " + std::to_string(value) +
                            " is outside the 32-bit integer range");
  return std::int32_t(value);
}

// Instructions from one flat Python list [op, a, b, c, k, op, a, b, c, k, ...], the
// layout the eager recorder of dualtape._eager appends to (one extend per operation).
std::vector<Instruction> instructions_from_flat_list(py::handle code) {
  if (!PyList_Check(code.ptr()))
    throw py::type_error("code must be a list, got " + std::string(Py_TYPE(code.ptr())->tp_name));
  const py::ssize_t length = PyList_GET_SIZE(code.ptr());
  if (length % 5 != 0)
    throw std::invalid_argument("code must contain 5 fields per instruction (op, a, b, c, k); its length is " +
                                std::to_string(length));
  std::vector<Instruction> instructions(size_t(length / 5));
  for (py::ssize_t i = 0; i < length; i += 5) {
    const std::int32_t op = instruction_field(PyList_GET_ITEM(code.ptr(), i), i);
    if (op < 0 || op >= kOpCount) throw std::invalid_argument("unknown operation code " + std::to_string(op));
    PyObject* k_item = PyList_GET_ITEM(code.ptr(), i + 4);
    const double k = PyFloat_AsDouble(k_item);
    if (k == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      throw py::type_error("code[" + std::to_string(i + 4) + "] must be a float, got " +
                           std::string(Py_TYPE(k_item)->tp_name));
    }
    instructions[size_t(i / 5)] =
        Instruction{Op(op), instruction_field(PyList_GET_ITEM(code.ptr(), i + 1), i + 1),
                    instruction_field(PyList_GET_ITEM(code.ptr(), i + 2), i + 2),
                    instruction_field(PyList_GET_ITEM(code.ptr(), i + 3), i + 3), k};
  }
  return instructions;
}

std::shared_ptr<Tape> make_tape_from_code(int n_inputs, int n_params, py::handle code, const std::vector<int>& outputs) {
  return std::make_shared<Tape>(n_inputs, n_params, instructions_from_flat_list(code), outputs);
}

// Value and gradient of one output of a recorded program at x, without keeping the
// tape: the one-shot path of dt.grad. x is a list of n_inputs floats. Returns
// (value, gradient, index of the first non-finite gradient entry or -1).
py::tuple eager_value_and_gradient(py::handle code, int n_inputs, py::handle x, int output) {
  if (!PyList_Check(x.ptr()) || PyList_GET_SIZE(x.ptr()) != n_inputs)
    throw std::invalid_argument("x must be a list of n_inputs = " + std::to_string(n_inputs) + " floats");
  const Tape tape(n_inputs, 0, instructions_from_flat_list(code), std::vector<int>{output});
  thread_local std::vector<double> point;
  point.resize(size_t(n_inputs));
  for (int i = 0; i < n_inputs; ++i) {
    point[size_t(i)] = PyFloat_AsDouble(PyList_GET_ITEM(x.ptr(), i));
    if (point[size_t(i)] == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  }

  DoubleArray gradient(n_inputs);
  double value = 0.0;
  const double seed = 1.0;
  thread_local Workspace ws;
  vector_jacobian(tape, point.data(), nullptr, &seed, &value, gradient.mutable_data(), ws);
  int first_not_finite = -1;
  for (int i = 0; i < n_inputs; ++i) {
    if (!std::isfinite(gradient.data()[i])) {
      first_not_finite = i;
      break;
    }
  }
  return py::make_tuple(value, std::move(gradient), first_not_finite);
}

// tape.gradient(x) for the common call, without pybind11's argument conversion:
// a C function bound to a capsule that owns a reference to the tape. It handles x
// when it is a 1-D, C-contiguous, aligned, native float64 ndarray of the tape's
// length and returns NotImplemented for every other x, which the Python wrapper
// then converts and validates. NaN or inf in x raise ValueError here.
constexpr const char* kTapeCapsuleName = "dualtape.TapeReference";

bool is_float64_vector(PyObject* x, py::ssize_t length) {
  const auto& api = py::detail::npy_api::get();
  if (Py_TYPE(x) != api.PyArray_Type_) return false;
  const auto* array = py::detail::array_proxy(x);
  const auto* descr = py::detail::array_descriptor_proxy(array->descr);
  constexpr int required = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  return array->nd == 1 && array->dimensions[0] == length && descr->type_num == py::detail::npy_api::NPY_DOUBLE_ &&
         descr->byteorder == '=' && (array->flags & required) == required;
}

PyObject* gradient_of_vector(PyObject* capsule, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 1) {
    PyErr_Format(PyExc_TypeError, "the gradient function takes exactly one argument x (%zd given)", nargs);
    return nullptr;
  }
  auto* reference = static_cast<std::shared_ptr<Tape>*>(PyCapsule_GetPointer(capsule, kTapeCapsuleName));
  if (reference == nullptr) return nullptr;
  const Tape& tape = **reference;
  PyObject* x = args[0];
  if (!is_float64_vector(x, tape.n_inputs())) Py_RETURN_NOTIMPLEMENTED;

  const double* data = reinterpret_cast<const double*>(py::detail::array_proxy(x)->data);
  for (int i = 0; i < tape.n_inputs(); ++i) {
    if (!std::isfinite(data[i])) {
      PyErr_Format(PyExc_ValueError, "x contains NaN or inf at index %d", i);
      return nullptr;
    }
  }
  try {
    DoubleArray gradient(tape.n_inputs());
    double value = 0.0;
    const double seed = 1.0;
    thread_local Workspace ws;
    vector_jacobian(tape, data, nullptr, &seed, &value, gradient.mutable_data(), ws);
    return gradient.release().ptr();
  } catch (py::error_already_set& error) {
    error.restore();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
  }
  return nullptr;
}

PyMethodDef gradient_of_vector_method = {
    "gradient", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&gradient_of_vector)), METH_FASTCALL,
    "Gradient of a single-output tape without parameters at a finite float64 vector x; NotImplemented for "
    "any other x."};

py::object make_gradient_function(const std::shared_ptr<Tape>& tape) {
  if (tape->n_outputs() != 1 || tape->n_params() != 0)
    throw std::invalid_argument("the fast gradient function needs a tape with one output and no parameters");
  PyObject* capsule = PyCapsule_New(new std::shared_ptr<Tape>(tape), kTapeCapsuleName, [](PyObject* object) {
    delete static_cast<std::shared_ptr<Tape>*>(PyCapsule_GetPointer(object, kTapeCapsuleName));
  });
  if (capsule == nullptr) throw py::error_already_set();
  auto owned_capsule = py::reinterpret_steal<py::object>(capsule);
  PyObject* function = PyCFunction_New(&gradient_of_vector_method, capsule);
  if (function == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(function);
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
  m.def("eager_value_and_gradient", &eager_value_and_gradient, py::arg("code"), py::arg("n_inputs"), py::arg("x"),
        py::arg("output"),
        "Value and gradient of output slot `output` of a flat instruction list at x (a list of floats), "
        "and the index of the first non-finite gradient entry (-1 if none).");
  py::class_<Tape, std::shared_ptr<Tape>>(m, "Tape")
      .def(py::init(&make_tape), py::arg("n_inputs"), py::arg("n_params"), py::arg("ops"), py::arg("a"),
           py::arg("b"), py::arg("c"), py::arg("k"), py::arg("outputs"))
      .def_static("from_lists", &make_tape_from_lists, py::arg("n_inputs"), py::arg("n_params"), py::arg("ops"),
                  py::arg("a"), py::arg("b"), py::arg("c"), py::arg("k"), py::arg("outputs"),
                  "Build a tape from Python lists of instruction fields.")
      .def_static("from_code", &make_tape_from_code, py::arg("n_inputs"), py::arg("n_params"), py::arg("code"),
                  py::arg("outputs"), "Build a tape from one flat list [op, a, b, c, k, ...] of instruction fields.")
      .def("gradient_function", &make_gradient_function,
           "A function g(x) that returns the gradient at a finite float64 vector x, or NotImplemented for other x.")
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
            Workspace ws;
            std::vector<double> out(t.n_outputs()), result(t.n_inputs());
            vector_jacobian(t, x.data(), params_pointer(t, p), w.data(), out.data(), result.data(), ws);
            DoubleArray values(t.size()), adjoints(t.size());
            std::copy(ws.values.begin(), ws.values.begin() + t.size(), values.mutable_data());
            std::copy(ws.adjoints.begin(), ws.adjoints.begin() + t.size(), adjoints.mutable_data());
            return py::make_tuple(values, adjoints);
          },
          py::arg("x"), py::arg("p"), py::arg("w"), "Values and adjoints of every slot (for graph pictures).");

}

}  // namespace dualtape::python
