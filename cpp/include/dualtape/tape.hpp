// The tape: a straight-line program in SSA form, and its evaluation modes at one point.
#pragma once

#include "dualtape/dual.hpp"
#include "dualtape/ops.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualtape {

/// One instruction; it defines the slot with its own index. `a`, `b`, `c` are the
/// slots of its arguments (−1 when unused). For Input and Param, `a` is the index
/// of the variable or parameter; for Const and PowConst, `k` is the constant.
struct Instruction {
  Op op = Op::Const;
  std::int32_t a = -1;
  std::int32_t b = -1;
  std::int32_t c = -1;
  double k = 0.0;
};

/// One step of the reverse sweep: the adjoint of slot `slot` times the partials of
/// its instruction flows to the argument slots a and b. The mode of an argument is
/// what happens to its adjoint: nothing (the argument does not depend on an input),
/// assignment (its first contribution, so adjoints need no zero fill) or addition.
struct ReverseStep {
  enum Mode : std::uint8_t { kSkip = 0, kAssign = 1, kAdd = 2 };
  std::int32_t slot = 0;
  std::int32_t a = -1;
  std::int32_t b = -1;
  Mode mode_a = kSkip;
  Mode mode_b = kSkip;
  std::uint8_t arity = 0;  ///< differentiable arguments of the instruction (1 or 2)
  /// For an operation with constant partials, their values (the interpreter does
  /// not store them per point); otherwise constant is false.
  bool constant = false;
  double constant_a = 0.0;
  double constant_b = 0.0;
  /// For an operation with constant second partials, their values ∂²v/∂a²,
  /// ∂²v/∂a∂b and ∂²v/∂b²; otherwise constant_second is false.
  bool constant_second = false;
  double constant_aa = 0.0;
  double constant_ab = 0.0;
  double constant_bb = 0.0;
};

/// A recorded program with n_inputs variables, n_params parameters and one or more
/// outputs. After construction the slots are in canonical order: slot i < n_inputs
/// is input i, the next n_params slots are the parameters, then constants and
/// operations; instructions that no output depends on are removed.
class Tape {
 public:
  Tape(int n_inputs, int n_params, const std::vector<Instruction>& code, const std::vector<int>& outputs) {
    if (n_inputs < 0) throw std::invalid_argument("n_inputs must be >= 0, got " + std::to_string(n_inputs));
    if (n_params < 0) throw std::invalid_argument("n_params must be >= 0, got " + std::to_string(n_params));
    if (outputs.empty()) throw std::invalid_argument("a tape needs at least one output");
    n_inputs_ = n_inputs;
    n_params_ = n_params;
    validate(code, outputs);
    canonicalize(code, outputs);
  }

  int n_inputs() const { return n_inputs_; }
  int n_params() const { return n_params_; }
  int n_outputs() const { return int(outputs_.size()); }
  int size() const { return int(code_.size()); }
  int first_operation() const { return n_inputs_ + n_params_; }
  const std::vector<Instruction>& code() const { return code_; }
  const std::vector<int>& outputs() const { return outputs_; }
  /// Number of differentiated arguments of each instruction (0, 1 or 2).
  const std::vector<std::uint8_t>& differentiable_arity() const { return diff_arity_; }
  /// The reverse sweep in execution order (last instruction first). It visits the
  /// operations that depend on an input and that an output depends on through
  /// differentiable arguments, and sends adjoints only to arguments that depend on
  /// an input. Slots outside it keep whatever their adjoint held.
  const std::vector<ReverseStep>& reverse_steps() const { return reverse_steps_; }
  /// Inputs whose adjoint no step writes (their adjoint is 0 after a sweep).
  const std::vector<int>& unreached_inputs() const { return unreached_inputs_; }
  /// Whether each slot depends on an input through differentiable arguments.
  const std::vector<char>& active() const { return active_; }
  /// Number of arithmetic operations (instructions other than inputs, parameters, constants).
  int n_operations() const {
    int count = 0;
    for (const auto& ins : code_) count += (ins.op != Op::Input && ins.op != Op::Param && ins.op != Op::Const);
    return count;
  }

 private:
  void validate(const std::vector<Instruction>& code, const std::vector<int>& outputs) const {
    const int n = int(code.size());
    for (int i = 0; i < n; ++i) {
      const Instruction& ins = code[i];
      if (int(ins.op) >= kOpCount) throw std::invalid_argument("instruction " + std::to_string(i) + ": unknown operation code " + std::to_string(int(ins.op)));
      if (ins.op == Op::Input && (ins.a < 0 || ins.a >= n_inputs_))
        throw std::out_of_range("instruction " + std::to_string(i) + ": input index " + std::to_string(ins.a) + " is outside [0, " + std::to_string(n_inputs_) + ")");
      if (ins.op == Op::Param && (ins.a < 0 || ins.a >= n_params_))
        throw std::out_of_range("instruction " + std::to_string(i) + ": parameter index " + std::to_string(ins.a) + " is outside [0, " + std::to_string(n_params_) + ")");
      const int arity = op_arity(ins.op);
      const std::int32_t args[3] = {ins.a, ins.b, ins.c};
      for (int j = 0; j < arity; ++j) {
        if (args[j] < 0 || args[j] >= i)
          throw std::out_of_range("instruction " + std::to_string(i) + " (" + op_name(ins.op) + "): argument slot " + std::to_string(args[j]) + " must refer to an earlier instruction");
      }
    }
    for (int out : outputs)
      if (out < 0 || out >= n) throw std::out_of_range("output slot " + std::to_string(out) + " is outside [0, " + std::to_string(n) + ")");
  }

  // Put inputs and parameters first, drop dead instructions and merge duplicate
  // inputs, parameters and constants.
  void canonicalize(const std::vector<Instruction>& code, const std::vector<int>& outputs) {
    const int n = int(code.size());
    std::vector<char> live(n, 0);
    for (int out : outputs) live[out] = 1;
    for (int i = n - 1; i >= 0; --i) {
      if (!live[i]) continue;
      const Instruction& ins = code[i];
      const int arity = op_arity(ins.op);
      if (arity > 0) live[ins.a] = 1;
      if (arity > 1) live[ins.b] = 1;
      if (arity > 2) live[ins.c] = 1;
    }

    code_.clear();
    for (int i = 0; i < n_inputs_; ++i) code_.push_back({Op::Input, i, -1, -1, 0.0});
    for (int j = 0; j < n_params_; ++j) code_.push_back({Op::Param, j, -1, -1, 0.0});

    std::vector<int> remap(n, -1);
    for (int i = 0; i < n; ++i) {
      const Instruction& ins = code[i];
      if (ins.op == Op::Input) { remap[i] = ins.a; continue; }
      if (ins.op == Op::Param) { remap[i] = n_inputs_ + ins.a; continue; }
      if (!live[i]) continue;
      Instruction copy = ins;
      const int arity = op_arity(ins.op);
      if (arity > 0) copy.a = remap[ins.a];
      if (arity > 1) copy.b = remap[ins.b];
      if (arity > 2) copy.c = remap[ins.c];
      remap[i] = int(code_.size());
      code_.push_back(copy);
    }
    outputs_.clear();
    for (int out : outputs) outputs_.push_back(remap[out]);

    diff_arity_.assign(code_.size(), 0);
    for (size_t i = 0; i < code_.size(); ++i) {
      const Op op = code_[i].op;
      if (op_is_comparison(op) || op == Op::Sign) continue;
      diff_arity_[i] = std::uint8_t(op_differentiable_arity(op));
    }
    plan_reverse_sweep();
  }

  // Finds the slots that depend on an input (forward) and those of them that reach
  // an output through differentiable arguments (backward). Then decides for each
  // argument whether its adjoint is assigned (first contribution) or accumulated.
  void plan_reverse_sweep() {
    const int n = int(code_.size());
    std::vector<char>& active = active_;
    active.assign(n, 0);
    std::vector<char> reached(n, 0);
    for (int i = 0; i < n_inputs_; ++i) active[i] = 1;
    for (int i = first_operation(); i < n; ++i) {
      const Instruction& ins = code_[i];
      const int m = diff_arity_[i];
      active[i] = (m > 0 && active[ins.a]) || (m > 1 && active[ins.b]);
    }
    for (int out : outputs_) reached[out] = 1;
    reverse_steps_.clear();
    for (int i = n - 1; i >= first_operation(); --i) {
      if (!reached[i] || !active[i]) continue;
      const Instruction& ins = code_[i];
      ReverseStep step;
      step.slot = i;
      step.a = ins.a;
      step.b = ins.b;
      const int m = diff_arity_[i];
      step.arity = std::uint8_t(m);
      auto mode = [&](std::int32_t arg) {
        if (!active[arg]) return ReverseStep::kSkip;
        const ReverseStep::Mode result = reached[arg] ? ReverseStep::kAdd : ReverseStep::kAssign;
        reached[arg] = 1;
        return result;
      };
      if (m > 0) step.mode_a = mode(ins.a);
      if (m > 1) step.mode_b = mode(ins.b);
      if (op_has_constant_partials(ins.op)) {
        double v = 0.0;
        step.constant = true;
        visit_op(ins.op, [&](auto tag) {
          constexpr Op op = decltype(tag)::value;
          if constexpr (op_has_constant_partials(op)) Rule<op>::eval(1.0, 1.0, 0.0, 0.0, v, step.constant_a, step.constant_b);
        });
      }
      if (op_has_constant_second_partials(ins.op)) {
        // Second partials at an arbitrary point, since they are the same everywhere.
        double v = 0.0, da = 0.0, db = 0.0;
        visit_op(ins.op, [&](auto tag) {
          constexpr Op op = decltype(tag)::value;
          if constexpr (op_has_constant_second_partials(op))
            second_partials<op>(1.0, 1.0, 0.0, ins.k, v, da, db, step.constant_aa, step.constant_ab, step.constant_bb);
        });
        step.constant_second = true;
      }
      reverse_steps_.push_back(step);
    }
    unreached_inputs_.clear();
    for (int i = 0; i < n_inputs_; ++i)
      if (!reached[i]) unreached_inputs_.push_back(i);
  }

  int n_inputs_ = 0;
  int n_params_ = 0;
  std::vector<Instruction> code_;
  std::vector<int> outputs_;
  std::vector<std::uint8_t> diff_arity_;
  std::vector<ReverseStep> reverse_steps_;
  std::vector<int> unreached_inputs_;
  std::vector<char> active_;
};

}  // namespace dualtape
