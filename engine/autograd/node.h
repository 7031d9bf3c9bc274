#pragma once
// The autograd tape: every differentiable op that ran with grad enabled leaves a Node whose backward
// rule is written with engine ops, so running it with grad enabled (create_graph) records the graph of
// the gradient itself and higher-order gradients work.
//
// Writing an op's backward:
//
//   Tensor out = <forward kernel>;
//   if (autograd::needs_grad({a, b})) {
//     autograd::record("mul", {a, b}, {&out},
//         [sa = SavedTensor(a), sb = SavedTensor(b)](const BackwardContext& ctx) -> TensorList {
//           const Tensor& g = ctx.grad(0);
//           return {ctx.needs_input_grad(0) ? mul(g, ctx.unpack(sb)) : Tensor(),
//                   ctx.needs_input_grad(1) ? mul(g, ctx.unpack(sa)) : Tensor()};
//         });
//   }
//
// An op that needs its own output in backward captures SavedTensor::output(out): it is stored without
// history (no reference cycle) and unpacking re-attaches this node, so double backward still works.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace gantry::autograd {

using TensorList = std::vector<Tensor>;
class Node;

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

class BackwardContext;

// A tensor kept for the backward pass. Inputs are kept as they are; an op's own output is kept
// without its history (to avoid a reference cycle) and gets it back when unpacked in backward.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& input) : t_(input) {}
  static SavedTensor output(const Tensor& out, uint32_t output_nr = 0);

 private:
  friend class BackwardContext;
  Tensor t_;
  bool is_output_ = false;
  uint32_t output_nr_ = 0;
};

using BackwardFn = std::function<TensorList(const BackwardContext&)>;

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node(std::string name, std::vector<Edge> next_edges, size_t num_outputs);
  virtual ~Node() = default;

  const std::string& name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return next_edges_; }
  size_t num_inputs() const { return next_edges_.size(); }
  size_t num_outputs() const { return num_outputs_; }
  uint64_t sequence_nr() const { return sequence_nr_; }
  // Output shapes/dtypes, so a missing gradient can be materialised as zeros.
  std::vector<Shape> output_shapes;
  std::vector<DType> output_dtypes;
  std::vector<Device> output_devices;

  // grads[i] is the gradient w.r.t. output i; returns one gradient per input (undefined = none).
  virtual TensorList apply(const TensorList& grads, const std::vector<bool>& needs_input_grad) = 0;
  // Frees the saved tensors after a backward pass without retain_graph.
  virtual void release() {}
  // Some nodes (leaf accumulators) are executed specially by the engine.
  virtual bool is_accumulator() const { return false; }

 protected:
  std::string name_;
  std::vector<Edge> next_edges_;
  size_t num_outputs_;
  uint64_t sequence_nr_;
};

class BackwardContext {
 public:
  BackwardContext(Node& node, const TensorList& grads, const std::vector<bool>& needs)
      : node_(node), grads_(grads), needs_(needs) {}
  const Tensor& grad(size_t i = 0) const { return grads_.at(i); }
  bool needs_input_grad(size_t i) const { return needs_.at(i); }
  Tensor unpack(const SavedTensor& s) const;
  Node& node() const { return node_; }

 private:
  Node& node_;
  const TensorList& grads_;
  const std::vector<bool>& needs_;
};

// A node whose backward rule is a lambda over saved tensors. A once-differentiable rule (a fused
// backward kernel that is not itself an op) runs without recording; under create_graph its gradients
// get a DoubleBackwardError node, so differentiating them throws instead of silently giving zeros.
class FunctionNode final : public Node {
 public:
  FunctionNode(std::string name, std::vector<Edge> next_edges, size_t num_outputs, BackwardFn fn,
               bool once_differentiable = false)
      : Node(std::move(name), std::move(next_edges), num_outputs),
        fn_(std::move(fn)),
        once_differentiable_(once_differentiable) {}
  TensorList apply(const TensorList& grads, const std::vector<bool>& needs_input_grad) override;
  void release() override {
    fn_ = nullptr;
    released_ = true;
  }

 private:
  BackwardFn fn_;
  bool released_ = false;
  bool once_differentiable_;
};

// Stands behind the gradients of a once-differentiable node: backpropagating into it throws
// "<op> does not support double backward".
class DoubleBackwardError final : public Node {
 public:
  DoubleBackwardError(std::string op, std::vector<Edge> next_edges, size_t num_outputs)
      : Node(op + " (double backward)", std::move(next_edges), num_outputs), op_(std::move(op)) {}
  TensorList apply(const TensorList& grads, const std::vector<bool>& needs_input_grad) override;

 private:
  std::string op_;
};

// Accumulates into a leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf);
  TensorList apply(const TensorList& grads, const std::vector<bool>& needs_input_grad) override;
  bool is_accumulator() const override { return true; }
  std::shared_ptr<TensorImpl> leaf() const { return leaf_.lock(); }

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// True when grad mode is on and any of the tensors requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const TensorList& inputs);

// The edge through which a gradient for `t` flows: its grad_fn, or its leaf accumulator.
Edge gradient_edge(const Tensor& t);

// Connects `outputs` to a new FunctionNode running `fn`, with one edge per input. Call only when
// needs_grad(inputs) is true. Returns the node.
std::shared_ptr<Node> record(const char* name, const TensorList& inputs,
                             const std::vector<Tensor*>& outputs, BackwardFn fn);
// Like record(), for a backward rule that is not written in differentiable ops (a fused kernel):
// first-order gradients work as usual; a gradient of its gradient throws a clear error.
std::shared_ptr<Node> record_once_differentiable(const char* name, const TensorList& inputs,
                                                 const std::vector<Tensor*>& outputs, BackwardFn fn);

// Runs the backward pass from `outputs` (seeded with `grad_outputs`; undefined entries are ones for
// one-element outputs) and accumulates into leaves' .grad.
void backward(const TensorList& outputs, const TensorList& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

// Gradients of `outputs` w.r.t. `inputs` without touching any .grad. retain_graph defaults to
// create_graph. With allow_unused, an input the outputs do not depend on gets an undefined tensor.
TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const TensorList& grad_outputs = {}, bool create_graph = false,
                int retain_graph = -1, bool allow_unused = false);

}  // namespace gantry::autograd

namespace gantry {
using autograd::SavedTensor;
using autograd::TensorList;
}  // namespace gantry
