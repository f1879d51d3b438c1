// Python bindings of the dualtape core (module dualtape._core).
#include "dualtape/interpreter.hpp"
#include "dualtape/newton.hpp"
#include "dualtape/objective.hpp"
#include "dualtape/tape.hpp"

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace dualtape;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using Int64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

void require_length(const DoubleArray& array, py::ssize_t expected, const char* name) {
  if (array.size() != expected)
    throw std::invalid_argument(std::string(name) + ": expected " + std::to_string(expected) + " values, got " +
                                std::to_string(array.size()));
}

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

const double* params_pointer(const Tape& tape, const DoubleArray& p) {
  require_length(p, tape.n_params(), "p");
  return p.data();
}

py::tuple csr_tuple(const CsrPattern& pattern, std::vector<double>&& values) {
  IntArray indptr(pattern.row_ptr.size());
  std::copy(pattern.row_ptr.begin(), pattern.row_ptr.end(), indptr.mutable_data());
  IntArray indices(pattern.col.size());
  std::copy(pattern.col.begin(), pattern.col.end(), indices.mutable_data());
  DoubleArray data(values.size());
  std::copy(values.begin(), values.end(), data.mutable_data());
  return py::make_tuple(data, indices, indptr);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of dualtape: tapes, element energies, objectives and sparse Newton";

  py::list names;
  for (int i = 0; i < kOpCount; ++i) names.append(op_name(Op(i)));
  m.attr("OP_NAMES") = names;

  m.def("set_num_threads", &set_thread_count, py::arg("count"),
        "Set the number of threads for element evaluation (0: all cores).");
  m.def("get_num_threads", &thread_count, "Number of threads used for element evaluation.");

  py::class_<Tape, std::shared_ptr<Tape>>(m, "Tape")
      .def(py::init(&make_tape), py::arg("n_inputs"), py::arg("n_params"), py::arg("ops"), py::arg("a"),
           py::arg("b"), py::arg("c"), py::arg("k"), py::arg("outputs"))
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
            dispatch_size(n, [&](auto tag) {
              constexpr int N = decltype(tag)::value;
              HessianWorkspace<N> ws;
              f = hessian_point<N>(t, output, x.data(), pp, g.mutable_data(), H.mutable_data(), ws);
            });
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

  py::class_<ElementEnergy, std::shared_ptr<ElementEnergy>>(m, "ElementEnergy")
      .def(py::init([](std::shared_ptr<Tape> tape, const IntArray& elements, int dim, const DoubleArray& params) {
             if (elements.ndim() != 2) throw std::invalid_argument("elements must be a 2-D array");
             if (params.ndim() != 2) throw std::invalid_argument("params must be a 2-D array");
             const int arity = int(elements.shape(1));
             std::vector<std::int32_t> e(elements.data(), elements.data() + elements.size());
             std::vector<double> p(params.data(), params.data() + params.size());
             return std::make_shared<ElementEnergy>(tape, std::move(e), arity, dim, std::move(p), int(params.shape(1)));
           }),
           py::arg("tape"), py::arg("elements"), py::arg("dim"), py::arg("params"))
      .def_property_readonly("n_elements", &ElementEnergy::n_elements)
      .def_property_readonly("arity", &ElementEnergy::arity)
      .def_property_readonly("dim", &ElementEnergy::dim)
      .def_property_readonly("max_block", &ElementEnergy::max_block);

  py::class_<Objective, std::shared_ptr<Objective>>(m, "Objective")
      .def(py::init([](std::vector<std::pair<std::shared_ptr<ElementEnergy>, double>> terms, int n_blocks, int dim,
                       py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast> fixed) {
             std::vector<std::pair<std::shared_ptr<const ElementEnergy>, double>> list;
             for (auto& [energy, weight] : terms) list.emplace_back(energy, weight);
             std::vector<std::uint8_t> flags(fixed.data(), fixed.data() + fixed.size());
             py::gil_scoped_release release;
             return std::make_shared<Objective>(std::move(list), n_blocks, dim, std::move(flags));
           }),
           py::arg("terms"), py::arg("n_blocks"), py::arg("dim"), py::arg("fixed"))
      .def_property_readonly("n", &Objective::n)
      .def_property_readonly("n_elements", &Objective::n_elements)
      .def_property_readonly("nnz", [](const Objective& o) { return o.pattern().nnz(); })
      .def("n_colors", &Objective::n_colors, py::arg("term"))
      .def(
          "value",
          [](const Objective& o, const DoubleArray& x) {
            require_length(x, o.n(), "x");
            py::gil_scoped_release release;
            return o.value(x.data());
          },
          py::arg("x"))
      .def(
          "value_and_gradient",
          [](const Objective& o, const DoubleArray& x) {
            require_length(x, o.n(), "x");
            DoubleArray g(o.n());
            double f;
            {
              py::gil_scoped_release release;
              f = o.value_and_gradient(x.data(), g.mutable_data());
            }
            return py::make_tuple(f, g);
          },
          py::arg("x"))
      .def(
          "value_and_gradient_batch",
          [](const Objective& o, const DoubleArray& x, const Int64Array& indices) {
            require_length(x, o.n(), "x");
            DoubleArray g(o.n());
            double f;
            {
              py::gil_scoped_release release;
              f = o.value_and_gradient_batch(x.data(), indices.data(), indices.size(), g.mutable_data());
            }
            return py::make_tuple(f, g);
          },
          py::arg("x"), py::arg("indices"))
      .def(
          "hessian",
          [](const Objective& o, const DoubleArray& x, const std::string& projection, double eps) {
            require_length(x, o.n(), "x");
            const Projection mode = parse_projection(projection);
            DoubleArray g(o.n());
            std::vector<double> values(o.pattern().nnz());
            double f;
            {
              py::gil_scoped_release release;
              f = o.hessian(x.data(), mode, eps, g.mutable_data(), values.data());
            }
            return py::make_tuple(f, g, csr_tuple(o.pattern(), std::move(values)));
          },
          py::arg("x"), py::arg("projection"), py::arg("eps"));

  m.def(
      "newton",
      [](const Objective& objective, const DoubleArray& x0, int max_iterations, double decrement_tolerance,
         double gradient_tolerance, const std::string& projection, double eps, double armijo, double shrink,
         int max_line_search, std::function<int(py::dict, DoubleArray)> callback) {
        require_length(x0, objective.n(), "x0");
        NewtonOptions options;
        options.max_iterations = max_iterations;
        options.decrement_tolerance = decrement_tolerance;
        options.gradient_tolerance = gradient_tolerance;
        options.projection = parse_projection(projection);
        options.eps = eps;
        options.armijo = armijo;
        options.shrink = shrink;
        options.max_line_search = max_line_search;
        Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(x0.data(), x0.size());

        NewtonCallback wrapped = [&](const NewtonIteration& it, const Eigen::VectorXd& x_now) -> int {
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
          info["iteration"] = it.iteration;
          info["f"] = it.f;
          info["grad_norm"] = it.gradient_norm;
          info["decrement"] = it.decrement;
          info["step"] = it.step;
          info["line_search_steps"] = it.line_search_steps;
          info["regularization"] = it.regularization;
          info["time"] = it.seconds;
          DoubleArray xa(x_now.size());
          std::copy(x_now.data(), x_now.data() + x_now.size(), xa.mutable_data());
          return callback(info, xa);
        };

        NewtonResult result;
        {
          py::gil_scoped_release release;
          result = newton(objective, x, options, wrapped);
        }
        py::dict out;
        DoubleArray xr(result.x.size()), gr(result.gradient.size());
        std::copy(result.x.data(), result.x.data() + result.x.size(), xr.mutable_data());
        std::copy(result.gradient.data(), result.gradient.data() + result.gradient.size(), gr.mutable_data());
        out["x"] = xr;
        out["grad"] = gr;
        out["fun"] = result.f;
        out["status"] = int(result.status);
        out["message"] = result.message;
        out["nit"] = result.iterations;
        out["nfev"] = result.function_evaluations;
        out["nhev"] = result.hessian_evaluations;
        return out;
      },
      py::arg("objective"), py::arg("x0"), py::arg("max_iterations"), py::arg("decrement_tolerance"),
      py::arg("gradient_tolerance"), py::arg("projection"), py::arg("eps"), py::arg("armijo"), py::arg("shrink"),
      py::arg("max_line_search"), py::arg("callback"),
      "Projected Newton on an objective; the loop runs in C++ with the GIL released.");
}
