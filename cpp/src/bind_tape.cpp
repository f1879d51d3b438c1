// Python bindings of Tape: evaluation modes at one point.
#include "bindings.hpp"

#include "dualtape/interpreter.hpp"

#include <pybind11/stl.h>

#include <structmember.h>

#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>
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

// ---------------------------------------------------------------------------------
// Eager recording (dt.grad and friends): a program recorded with real values.
//
// EagerProgram contains the instructions and the value of every slot. The Python
// class dualtape._eager.EagerSymbol derives from the C type EagerSymbolBase below,
// whose number slots record +, −, ·, /, **, negation and comparisons of two symbols,
// or of a symbol and a Python float or int, without running Python code. Every
// other operand goes to the generic Python method named `_generic_<name>` on the
// symbol's class, which records through EagerRecorder.emit.

struct EagerProgram {
  std::vector<Instruction> code;
  std::vector<double> values;
  std::vector<double> inputs;  // input i has value inputs[i]
  std::unordered_map<double, int> constant_slots;
  PyTypeObject* symbol_type = nullptr;  // strong reference, the Python EagerSymbol class
  bool closed = false;

  ~EagerProgram() { Py_XDECREF(reinterpret_cast<PyObject*>(symbol_type)); }

  // Append an instruction whose argument slots are valid and return its slot.
  int append(Op op, std::int32_t a, std::int32_t b, std::int32_t c, double k) {
    const double va = a >= 0 ? values[size_t(a)] : 0.0;
    const double vb = b >= 0 ? values[size_t(b)] : 0.0;
    const double vc = c >= 0 ? values[size_t(c)] : 0.0;
    double v = 0.0, da = 0.0, db = 0.0;
    visit_op(op, [&](auto tag) {
      constexpr Op rule = decltype(tag)::value;
      if constexpr (rule != Op::Input && rule != Op::Param) Rule<rule>::eval(va, vb, vc, k, v, da, db);
    });
    code.push_back(Instruction{op, a, b, c, k});
    values.push_back(v);
    return int(values.size()) - 1;
  }

  int constant_slot(double k) {
    // NaN is not equal to itself, so it gets a fresh slot each time. 0.0 and −0.0
    // compare equal and share the slot of whichever came first.
    if (k == k) {
      const auto found = constant_slots.find(k);
      if (found != constant_slots.end()) return found->second;
    }
    const int slot = append(Op::Const, -1, -1, -1, k);
    if (k == k) constant_slots.emplace(k, slot);
    return slot;
  }

  int input(double value) {
    code.push_back(Instruction{Op::Input, std::int32_t(inputs.size()), -1, -1, 0.0});
    values.push_back(value);
    inputs.push_back(value);
    return int(values.size()) - 1;
  }

  Tape tape(const std::vector<int>& outputs) const { return Tape(int(inputs.size()), 0, code, outputs); }
};

struct EagerSymbolObject {
  PyObject_HEAD
  PyObject* recorder;        // the Python EagerRecorder
  PyObject* program_object;  // the Python EagerProgram, which keeps `program` alive
  EagerProgram* program;
  Py_ssize_t slot;
  double value;
};

PyTypeObject eager_symbol_base_type = {PyVarObject_HEAD_INIT(nullptr, 0)};

bool is_eager_symbol(PyObject* object) { return PyObject_TypeCheck(object, &eager_symbol_base_type) != 0; }

EagerSymbolObject* as_symbol(PyObject* object) { return reinterpret_cast<EagerSymbolObject*>(object); }

PyObject* new_symbol(PyObject* recorder, PyObject* program_object, EagerProgram& program, int slot) {
  PyObject* object = program.symbol_type->tp_alloc(program.symbol_type, 0);
  if (object == nullptr) return nullptr;
  EagerSymbolObject* symbol = as_symbol(object);
  Py_INCREF(recorder);
  symbol->recorder = recorder;
  Py_INCREF(program_object);
  symbol->program_object = program_object;
  symbol->program = &program;
  symbol->slot = slot;
  symbol->value = program.values[size_t(slot)];
  return object;
}

// Call the generic Python method `name` of the symbol's class with (symbol, other).
PyObject* call_generic(PyObject* symbol, PyObject* other, const char* name) {
  PyObject* method = PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(symbol)), name);
  if (method == nullptr) return nullptr;
  PyObject* result = PyObject_CallFunctionObjArgs(method, symbol, other, nullptr);
  Py_DECREF(method);
  return result;
}

// Find the slot of `other` as an operand next to `symbol`. A symbol of the same
// recording gives its slot, and a Python float or int is recorded as a constant.
// Anything else returns false and records nothing.
bool fast_operand(EagerSymbolObject* symbol, PyObject* other, int& slot) {
  if (is_eager_symbol(other)) {
    EagerSymbolObject* operand = as_symbol(other);
    if (operand->recorder != symbol->recorder) return false;
    slot = int(operand->slot);
    return true;
  }
  double k;
  if (PyFloat_CheckExact(other)) {
    k = PyFloat_AS_DOUBLE(other);
  } else if (PyLong_CheckExact(other)) {
    k = PyLong_AsDouble(other);
    if (k == -1.0 && PyErr_Occurred()) {
      // Too large for a float: the generic path raises the usual error.
      PyErr_Clear();
      return false;
    }
  } else {
    return false;
  }
  slot = symbol->program->constant_slot(k);
  return true;
}

// Record `left op right` where at least one side is a symbol.
PyObject* record_binary(PyObject* left, PyObject* right, Op op, const char* generic, const char* generic_reflected) {
  const bool reflected = !is_eager_symbol(left);
  PyObject* self = reflected ? right : left;
  PyObject* other = reflected ? left : right;
  EagerSymbolObject* symbol = as_symbol(self);
  int other_slot = -1;
  if (symbol->recorder == nullptr || symbol->program->closed || !fast_operand(symbol, other, other_slot))
    return call_generic(self, other, reflected ? generic_reflected : generic);
  const int self_slot = int(symbol->slot);
  try {
    const int slot = reflected ? symbol->program->append(op, other_slot, self_slot, -1, 0.0)
                               : symbol->program->append(op, self_slot, other_slot, -1, 0.0);
    return new_symbol(symbol->recorder, symbol->program_object, *symbol->program, slot);
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  }
}

PyObject* symbol_add(PyObject* a, PyObject* b) { return record_binary(a, b, Op::Add, "_generic_add", "_generic_radd"); }
PyObject* symbol_subtract(PyObject* a, PyObject* b) { return record_binary(a, b, Op::Sub, "_generic_sub", "_generic_rsub"); }
PyObject* symbol_multiply(PyObject* a, PyObject* b) { return record_binary(a, b, Op::Mul, "_generic_mul", "_generic_rmul"); }
PyObject* symbol_divide(PyObject* a, PyObject* b) {
  return record_binary(a, b, Op::Div, "_generic_truediv", "_generic_rtruediv");
}

// a ** k for a constant k follows Symbol.__pow__: a itself for k = 1, Square for
// k = 2, Sqrt for k = 0.5, PowConst otherwise; a ** b for a symbol b is Pow.
PyObject* symbol_power(PyObject* base, PyObject* exponent, PyObject* modulus) {
  if (!is_eager_symbol(base)) return call_generic(exponent, base, "_generic_rpow");
  if (modulus != Py_None) Py_RETURN_NOTIMPLEMENTED;
  EagerSymbolObject* symbol = as_symbol(base);
  if (symbol->recorder == nullptr) return call_generic(base, exponent, "_generic_pow");
  EagerProgram& program = *symbol->program;
  double k;
  if (PyFloat_CheckExact(exponent)) {
    k = PyFloat_AS_DOUBLE(exponent);
  } else if (PyLong_CheckExact(exponent)) {
    k = PyLong_AsDouble(exponent);
    if (k == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      return call_generic(base, exponent, "_generic_pow");
    }
  } else {
    return record_binary(base, exponent, Op::Pow, "_generic_pow", "_generic_rpow");
  }
  if (program.closed) return call_generic(base, exponent, "_generic_pow");
  if (k == 1.0) {
    Py_INCREF(base);
    return base;
  }
  const std::int32_t a = std::int32_t(symbol->slot);
  try {
    int slot;
    if (k == 2.0) slot = program.append(Op::Square, a, -1, -1, 0.0);
    else if (k == 0.5) slot = program.append(Op::Sqrt, a, -1, -1, 0.0);
    else slot = program.append(Op::PowConst, a, -1, -1, k);
    return new_symbol(symbol->recorder, symbol->program_object, program, slot);
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  }
}

PyObject* record_unary(PyObject* self, Op op, const char* generic) {
  EagerSymbolObject* symbol = as_symbol(self);
  if (symbol->recorder == nullptr || symbol->program->closed) {
    PyObject* method = PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(self)), generic);
    if (method == nullptr) return nullptr;
    PyObject* result = PyObject_CallOneArg(method, self);
    Py_DECREF(method);
    return result;
  }
  try {
    const int slot = symbol->program->append(op, std::int32_t(symbol->slot), -1, -1, 0.0);
    return new_symbol(symbol->recorder, symbol->program_object, *symbol->program, slot);
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  }
}

PyObject* symbol_negative(PyObject* self) { return record_unary(self, Op::Neg, "_generic_neg"); }
PyObject* symbol_absolute(PyObject* self) { return record_unary(self, Op::Abs, "_generic_abs"); }

PyObject* symbol_positive(PyObject* self) {
  Py_INCREF(self);
  return self;
}

// Comparisons record an instruction of value 0 or 1, so `if a < b` follows the
// values while the recording stays a straight-line program.
PyObject* symbol_richcompare(PyObject* self, PyObject* other, int comparison) {
  static const Op ops[] = {Op::Lt, Op::Le, Op::Eq, Op::Ne, Op::Gt, Op::Ge};  // Py_LT ... Py_GE
  static const char* generic[] = {"_generic_lt", "_generic_le", "_generic_eq",
                                  "_generic_ne", "_generic_gt", "_generic_ge"};
  if (!is_eager_symbol(self) || comparison < Py_LT || comparison > Py_GE) Py_RETURN_NOTIMPLEMENTED;
  return record_binary(self, other, ops[comparison], generic[comparison], generic[comparison]);
}

int symbol_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(as_symbol(self)->recorder);
  Py_VISIT(as_symbol(self)->program_object);
  return 0;
}

// A cleared symbol has no recorder, so its operators take the generic path, which
// raises AttributeError instead of reaching a released program.
int symbol_clear(PyObject* self) {
  Py_CLEAR(as_symbol(self)->recorder);
  Py_CLEAR(as_symbol(self)->program_object);
  return 0;
}

void symbol_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  symbol_clear(self);
  Py_TYPE(self)->tp_free(self);
}

PyMemberDef symbol_members[] = {
    {"recorder", T_OBJECT_EX, offsetof(EagerSymbolObject, recorder), READONLY, "The recorder of this symbol."},
    {"slot", T_PYSSIZET, offsetof(EagerSymbolObject, slot), READONLY, "The instruction that defines this symbol."},
    {"value", T_DOUBLE, offsetof(EagerSymbolObject, value), READONLY, "The recorded value."},
    {nullptr, 0, 0, 0, nullptr}};

PyNumberMethods symbol_number_methods = {};

void ready_eager_symbol_type(py::module_& m) {
  symbol_number_methods.nb_add = symbol_add;
  symbol_number_methods.nb_subtract = symbol_subtract;
  symbol_number_methods.nb_multiply = symbol_multiply;
  symbol_number_methods.nb_true_divide = symbol_divide;
  symbol_number_methods.nb_power = symbol_power;
  symbol_number_methods.nb_negative = symbol_negative;
  symbol_number_methods.nb_positive = symbol_positive;
  symbol_number_methods.nb_absolute = symbol_absolute;

  PyTypeObject& type = eager_symbol_base_type;
  type.tp_name = "dualtape._core.EagerSymbolBase";
  type.tp_doc = "Base of dualtape._eager.EagerSymbol: a recorded slot with its value, and fast operators.";
  type.tp_basicsize = sizeof(EagerSymbolObject);
  type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
  type.tp_dealloc = symbol_dealloc;
  type.tp_traverse = symbol_traverse;
  type.tp_clear = symbol_clear;
  type.tp_members = symbol_members;
  type.tp_as_number = &symbol_number_methods;
  type.tp_richcompare = symbol_richcompare;
  type.tp_hash = PyBaseObject_Type.tp_hash;
  if (PyType_Ready(&type) < 0) throw py::error_already_set();
  Py_INCREF(&type);
  m.add_object("EagerSymbolBase", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&type)));
}

void check_slot(const EagerProgram& program, std::int32_t slot, bool required, const char* name) {
  if (slot >= std::int32_t(program.values.size()))
    throw std::out_of_range(std::string("argument ") + name + " = " + std::to_string(slot) +
                            " refers to no earlier instruction (the recording has " +
                            std::to_string(program.values.size()) + ")");
  if (required && slot < 0)
    throw std::invalid_argument(std::string("argument ") + name + " is -1, but the operation takes it");
}

void bind_eager_program(py::module_& m) {
  ready_eager_symbol_type(m);

  py::class_<EagerProgram>(m, "EagerProgram", "Instructions and slot values of one eager recording.")
      .def(py::init([](py::handle symbol_type) {
             if (!PyType_Check(symbol_type.ptr()) ||
                 !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(symbol_type.ptr()), &eager_symbol_base_type))
               throw py::type_error("symbol_type must be a subclass of EagerSymbolBase");
             auto program = std::make_unique<EagerProgram>();
             program->symbol_type = reinterpret_cast<PyTypeObject*>(symbol_type.inc_ref().ptr());
             return program;
           }),
           py::arg("symbol_type"))
      .def(
          "inputs",
          [](py::handle self, py::handle recorder, py::handle values) {
            EagerProgram& program = self.cast<EagerProgram&>();
            if (!PyList_Check(values.ptr())) throw py::type_error("values must be a list of floats");
            const py::ssize_t n = PyList_GET_SIZE(values.ptr());
            // NumPy fills a new object array with null pointers, so each entry is
            // set once without releasing a previous object.
            py::array_t<py::object> symbols(n);
            PyObject** entries = reinterpret_cast<PyObject**>(symbols.mutable_data());
            for (py::ssize_t i = 0; i < n; ++i) {
              const double value = PyFloat_AsDouble(PyList_GET_ITEM(values.ptr(), i));
              if (value == -1.0 && PyErr_Occurred()) throw py::error_already_set();
              PyObject* symbol = new_symbol(recorder.ptr(), self.ptr(), program, program.input(value));
              if (symbol == nullptr) throw py::error_already_set();
              entries[i] = symbol;
            }
            return symbols;
          },
          py::arg("recorder"), py::arg("values"),
          "Emit the next variables with the given values; return their symbols as a 1-D object array.")
      .def(
          "emit",
          [](py::handle self, py::handle recorder, int op, std::int32_t a, std::int32_t b, std::int32_t c, double k) {
            EagerProgram& program = self.cast<EagerProgram&>();
            if (op < 0 || op >= kOpCount || Op(op) == Op::Input || Op(op) == Op::Param)
              throw std::invalid_argument("operation code " + std::to_string(op) +
                                          " is invalid here: expected an operation or Const (inputs are emitted by inputs())");
            const int arity = op_arity(Op(op));
            check_slot(program, a, arity > 0, "a");
            check_slot(program, b, arity > 1, "b");
            check_slot(program, c, arity > 2, "c");
            const int slot = Op(op) == Op::Const ? program.constant_slot(k) : program.append(Op(op), a, b, c, k);
            PyObject* symbol = new_symbol(recorder.ptr(), self.ptr(), program, slot);
            if (symbol == nullptr) throw py::error_already_set();
            return py::reinterpret_steal<py::object>(symbol);
          },
          py::arg("recorder"), py::arg("op"), py::arg("a"), py::arg("b"), py::arg("c"), py::arg("k"),
          "Record one instruction, compute its value by the operation table and return its symbol.")
      .def(
          "constant",
          [](py::handle self, py::handle recorder, double k) {
            EagerProgram& program = self.cast<EagerProgram&>();
            PyObject* symbol = new_symbol(recorder.ptr(), self.ptr(), program, program.constant_slot(k));
            if (symbol == nullptr) throw py::error_already_set();
            return py::reinterpret_steal<py::object>(symbol);
          },
          py::arg("recorder"), py::arg("k"), "Return the symbol of a constant, emitting it the first time.")
      .def_property(
          "closed", [](const EagerProgram& program) { return program.closed; },
          [](EagerProgram& program, bool closed) { program.closed = closed; },
          "Whether the recording has finished; fast operators then defer to the generic methods, which raise.")
      .def_property_readonly("n_inputs", [](const EagerProgram& program) { return int(program.inputs.size()); })
      .def_property_readonly("size", [](const EagerProgram& program) { return int(program.code.size()); })
      .def(
          "instructions",
          [](const EagerProgram& program) {
            py::list ops, a, b, c, k;
            for (const Instruction& ins : program.code) {
              ops.append(int(ins.op));
              a.append(ins.a);
              b.append(ins.b);
              c.append(ins.c);
              k.append(ins.k);
            }
            return py::make_tuple(ops, a, b, c, k);
          },
          "The fields (ops, a, b, c, k) as five lists, the layout of Tape.from_lists.")
      .def(
          "tape", [](const EagerProgram& program, const std::vector<int>& outputs) {
            return std::make_shared<Tape>(program.tape(outputs));
          },
          py::arg("outputs"), "The recording as a Tape with the given output slots.")
      .def(
          "value_and_gradient",
          [](const EagerProgram& program, int output) {
            const Tape tape = program.tape(std::vector<int>{output});
            const int n = int(program.inputs.size());
            DoubleArray gradient(n);
            double value = 0.0;
            const double seed = 1.0;
            thread_local Workspace ws;
            vector_jacobian(tape, program.inputs.data(), nullptr, &seed, &value, gradient.mutable_data(), ws);
            int first_not_finite = -1;
            for (int i = 0; i < n && first_not_finite < 0; ++i)
              if (!std::isfinite(gradient.data()[i])) first_not_finite = i;
            return py::make_tuple(value, std::move(gradient), first_not_finite);
          },
          py::arg("output"),
          "Value and gradient of one output slot by the reverse sweep, and the index of the first non-finite "
          "gradient entry (-1 if none).");
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
  bind_eager_program(m);
  py::class_<Tape, std::shared_ptr<Tape>>(m, "Tape")
      .def(py::init(&make_tape), py::arg("n_inputs"), py::arg("n_params"), py::arg("ops"), py::arg("a"),
           py::arg("b"), py::arg("c"), py::arg("k"), py::arg("outputs"))
      .def_static("from_lists", &make_tape_from_lists, py::arg("n_inputs"), py::arg("n_params"), py::arg("ops"),
                  py::arg("a"), py::arg("b"), py::arg("c"), py::arg("k"), py::arg("outputs"),
                  "Build a tape from Python lists of instruction fields.")
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
            DoubleArray values(t.size()), adjoints(t.size());
            slot_adjoints(t, x.data(), params_pointer(t, p), w.data(), values.mutable_data(), adjoints.mutable_data());
            return py::make_tuple(values, adjoints);
          },
          py::arg("x"), py::arg("p"), py::arg("w"), "Values and adjoints of every slot (for graph pictures).");

}

}  // namespace dualtape::python
