// Python bindings of ElementEnergy, Objective and the Newton solver.
#include "bindings.hpp"

#include "dualtape/newton.hpp"

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <memory>
#include <vector>

namespace dualtape::python {

void bind_objective(py::module_& m) {
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
            DoubleArray values(o.pattern().nnz());
            double f;
            {
              py::gil_scoped_release release;
              f = o.hessian(x.data(), mode, eps, g.mutable_data(), values.mutable_data());
            }
            return py::make_tuple(f, g, csr_with_data(o.pattern().row_ptr, o.pattern().col, values));
          },
          py::arg("x"), py::arg("projection"), py::arg("eps"));

  m.def(
      "newton",
      [](const Objective& objective, const DoubleArray& x0, int max_iterations, double decrement_tolerance,
         double gradient_tolerance, const std::string& projection, double eps, double armijo, double shrink,
         int max_line_search, const PythonCallback& callback) {
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

        const NewtonCallback wrapped = wrap_callback<NewtonIteration>(callback, [](const NewtonIteration& it, py::dict& info) {
          info["iteration"] = it.iteration;
          info["f"] = it.f;
          info["grad_norm"] = it.gradient_norm;
          info["decrement"] = it.decrement;
          info["step"] = it.step;
          info["line_search_steps"] = it.line_search_steps;
          info["regularization"] = it.regularization;
          info["time"] = it.seconds;
        });

        NewtonResult result;
        {
          py::gil_scoped_release release;
          result = newton(objective, x, options, wrapped);
        }
        py::dict out;
        out["x"] = to_array(result.x);
        out["grad"] = to_array(result.gradient);
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

}  // namespace dualtape::python
