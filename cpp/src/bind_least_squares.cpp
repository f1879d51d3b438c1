// Python bindings of Residuals and the least-squares solvers.
#include "bindings.hpp"

#include "dualtape/least_squares.hpp"

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

namespace dualtape::python {

namespace {

py::tuple jacobian_tuple(const JacobianPattern& pattern, const double* values) {
  return csr_arrays(pattern.row_ptr, pattern.col, values);
}

LeastSquaresMethod parse_method(const std::string& name) {
  if (name == "lm") return LeastSquaresMethod::LevenbergMarquardt;
  if (name == "gauss-newton") return LeastSquaresMethod::GaussNewton;
  throw std::invalid_argument("method must be 'lm' or 'gauss-newton'; got '" + name + "'");
}

}  // namespace

void bind_least_squares(py::module_& m) {
  py::class_<Residuals, std::shared_ptr<Residuals>>(m, "Residuals")
      .def(py::init([](std::shared_ptr<ElementEnergy> elements, int n_blocks, const std::string& mode,
                       bool double_double, std::vector<double> params_low) {
             return std::make_shared<Residuals>(elements, n_blocks, parse_jacobian_mode(mode), double_double,
                                                std::move(params_low));
           }),
           py::arg("elements"), py::arg("n_blocks"), py::arg("mode") = "auto", py::arg("double_double") = false,
           py::arg("params_low") = std::vector<double>{})
      .def_property_readonly("double_double", &Residuals::double_double)
      .def_property_readonly("n", &Residuals::n_variables)
      .def_property_readonly("n_residuals", &Residuals::n_residuals)
      .def_property_readonly("n_outputs", &Residuals::n_outputs)
      .def_property_readonly("nnz", [](const Residuals& r) { return r.pattern().nnz(); })
      .def_property_readonly("uses_reverse_mode", &Residuals::uses_reverse_mode)
      .def(
          "residuals",
          [](const Residuals& self, const DoubleArray& x) {
            require_length(x, self.n_variables(), "x");
            DoubleArray r(self.n_residuals());
            {
              py::gil_scoped_release release;
              self.residuals(x.data(), r.mutable_data());
            }
            return r;
          },
          py::arg("x"), "Residual vector r(x), element by element.")
      .def(
          "jacobian",
          [](const Residuals& self, const DoubleArray& x) {
            require_length(x, self.n_variables(), "x");
            const JacobianPattern& pattern = self.pattern();
            DoubleArray r(self.n_residuals());
            // The Jacobian goes straight into the returned data array: a temporary of
            // nnz doubles would cost a copy and, when large, fresh pages every call.
            DoubleArray data(pattern.nnz());
            {
              py::gil_scoped_release release;
              self.residuals_and_jacobian(x.data(), r.mutable_data(), data.mutable_data());
            }
            return py::make_tuple(r, csr_with_data(pattern.row_ptr, pattern.col, data));
          },
          py::arg("x"), "Residuals and the CSR arrays (data, indices, indptr) of the Jacobian.");

  m.def(
      "least_squares",
      [](const Residuals& residuals, const DoubleArray& x0, py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast> fixed,
         const std::string& method, int max_iterations, double gtol, double xtol, double ftol, const std::string& loss,
         double f_scale, const std::string& damping, double initial_damping, double initial_step_bound,
         bool geodesic_acceleration, const PythonCallback& callback) {
        require_length(x0, residuals.n_variables(), "x0");
        if (fixed.size() != residuals.n_variables())
          throw std::invalid_argument("fixed: expected " + std::to_string(residuals.n_variables()) + " flags, got " +
                                      std::to_string(fixed.size()));
        LeastSquaresOptions options;
        options.method = parse_method(method);
        options.max_iterations = max_iterations;
        options.gtol = gtol;
        options.xtol = xtol;
        options.ftol = ftol;
        options.loss = parse_loss(loss);
        options.f_scale = f_scale;
        options.damping = parse_damping_update(damping);
        options.initial_damping = initial_damping;
        options.initial_step_bound = initial_step_bound;
        options.geodesic_acceleration = geodesic_acceleration;
        std::vector<std::uint8_t> flags(fixed.data(), fixed.data() + fixed.size());
        Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(x0.data(), x0.size());

        const LeastSquaresCallback wrapped = wrap_callback<LeastSquaresIteration>(callback, [](const LeastSquaresIteration& it, py::dict& info) {
          info["iteration"] = it.iteration;
          info["cost"] = it.cost;
          info["grad_norm"] = it.gradient_norm;
          info["step_norm"] = it.step_norm;
          info["damping"] = it.damping;
          info["gain_ratio"] = it.gain_ratio;
          info["accepted"] = it.accepted;
          info["time"] = it.seconds;
        });

        LeastSquaresResult result;
        {
          py::gil_scoped_release release;
          result = least_squares(residuals, x, flags, options, wrapped);
        }
        py::dict out;
        out["x"] = to_array(result.x);
        out["fun"] = to_array(result.residuals);
        out["grad"] = to_array(result.gradient);
        out["jac"] = jacobian_tuple(residuals.pattern(), result.jacobian.data());
        out["cost"] = result.cost;
        out["status"] = int(result.status);
        out["message"] = result.message;
        out["nit"] = result.iterations;
        out["nfev"] = result.function_evaluations;
        out["njev"] = result.jacobian_evaluations;
        out["shifted_solves"] = result.shifted_solves;
        out["rejected_accelerations"] = result.rejected_accelerations;
        out["factorizations"] = result.factorizations;
        return out;
      },
      py::arg("residuals"), py::arg("x0"), py::arg("fixed"), py::arg("method"), py::arg("max_iterations"),
      py::arg("gtol"), py::arg("xtol"), py::arg("ftol"), py::arg("loss"), py::arg("f_scale"),
      py::arg("damping"), py::arg("initial_damping"), py::arg("initial_step_bound"), py::arg("geodesic_acceleration"),
      py::arg("callback"),
      "Levenberg-Marquardt or Gauss-Newton on a Residuals object; the loop runs in C++ with the GIL released.");
}

}  // namespace dualtape::python
