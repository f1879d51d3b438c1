// Status codes and stopping messages shared by the solvers.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace dualtape {

/// Reason a solver stopped. The codes are those of dualtape.result.Status in Python.
enum class SolverStatus : int {
  ConvergedGradient = 1,
  ConvergedDecrement = 2,  ///< Newton decrement below its tolerance
  ConvergedStep = 3,
  ConvergedFunction = 4,
  MaxIterations = 0,
  CallbackStop = -1,
  NonFinite = -2,
  LineSearchFailed = -3,
  Interrupted = -4,
  LinearSolveFailed = -7,
};

/// Formats a number for a stopping message: scientific notation, 4 significant digits.
inline std::string format_number(double value) {
  // printf writes a NaN with its sign bit set as "-nan".
  if (std::isnan(value)) return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3e", value);
  return buffer;
}

/// Builds the message of a run that reached its iteration limit before the gradient
/// test: the limit, the final gradient norm (`norm_name`, such as "max |g_i|")
/// against gtol, and what to do next. The first-order methods in Python word it the
/// same way.
inline std::string iteration_limit_message(int max_iterations, const char* norm_name, double gradient_norm,
                                           double gtol) {
  return "iteration limit reached: maxiter = " + std::to_string(max_iterations) + ", final " + norm_name + " = " +
         format_number(gradient_norm) + " > gtol = " + format_number(gtol) + ". Raise maxiter to run longer.";
}

}  // namespace dualtape
