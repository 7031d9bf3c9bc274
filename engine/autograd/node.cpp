#include "engine/autograd/node.h"

#include <atomic>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/ops.h"

namespace gantry::autograd {
namespace {
std::atomic<uint64_t> g_next_sequence_nr{0};

// Makes `t` output number `output_nr` of `node` (t must have no history of its own).
void attach_output(const std::shared_ptr<Node>& node, Tensor& t, size_t output_nr) {
  TensorImpl& impl = t.impl();
  impl.grad_fn = node;
  impl.output_nr = static_cast<uint32_t>(output_nr);
  impl.requires_grad = true;
  node->output_shapes.push_back(impl.shape);
  node->output_dtypes.push_back(impl.dtype);
  node->output_devices.push_back(impl.storage->device());
}
}  // namespace

Node::Node(std::string name, std::vector<Edge> next_edges, size_t num_outputs)
    : name_(std::move(name)),
      next_edges_(std::move(next_edges)),
      num_outputs_(num_outputs),
      sequence_nr_(g_next_sequence_nr++) {}

SavedTensor SavedTensor::output(const Tensor& out, uint32_t output_nr) {
  SavedTensor s;
  s.t_ = out.detach();
  s.is_output_ = true;
  s.output_nr_ = output_nr;
  return s;
}

Tensor BackwardContext::unpack(const SavedTensor& s) const {
  if (!s.is_output_) return s.t_;
  Tensor t = s.t_.detach();
  t.impl().grad_fn = node_.shared_from_this();
  t.impl().output_nr = s.output_nr_;
  t.impl().requires_grad = true;
  return t;
}

TensorList FunctionNode::apply(const TensorList& grads, const std::vector<bool>& needs_input_grad) {
  GANTRY_CHECK(!released_, name_,
               ": trying to backward through the graph a second time (its saved tensors were freed after "
               "the first backward); pass retain_graph=true to the first backward/grad call");
  BackwardContext ctx(*this, grads, needs_input_grad);
  const bool guard_double_backward = once_differentiable_ && grad_enabled();
  TensorList out;
  {
    GradModeGuard mode(grad_enabled() && !once_differentiable_);
    out = fn_(ctx);
  }
  GANTRY_CHECK(out.size() == num_inputs(), name_, ": backward returned ", out.size(), " gradients for ",
               num_inputs(), " inputs");
  if (guard_double_backward) {
    // The gradients depend on the forward inputs and on the incoming gradients.
    std::vector<Edge> edges = next_edges_;
    for (const Tensor& g : grads) edges.push_back(gradient_edge(g));
    bool differentiable = false;
    for (const Edge& e : edges) differentiable = differentiable || e.valid();
    std::vector<Tensor*> defined;
    for (Tensor& g : out)
      if (g.defined()) defined.push_back(&g);
    if (differentiable && !defined.empty()) {
      auto error = std::make_shared<DoubleBackwardError>(name_, std::move(edges), defined.size());
      for (size_t i = 0; i < defined.size(); ++i) {
        *defined[i] = defined[i]->detach();
        attach_output(error, *defined[i], i);
      }
    }
  }
  return out;
}

TensorList DoubleBackwardError::apply(const TensorList&, const std::vector<bool>&) {
  GANTRY_FAIL(op_, " does not support double backward: its backward is a fused kernel, not differentiable ops; ",
              "a gradient of its gradient (create_graph=true, then differentiating again) is not available");
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf)
    : Node("AccumulateGrad", {}, 1), leaf_(leaf) {
  output_shapes = {leaf->shape};
  output_dtypes = {leaf->dtype};
  output_devices = {leaf->storage->device()};
}

TensorList AccumulateGrad::apply(const TensorList& grads, const std::vector<bool>&) {
  auto leaf = leaf_.lock();
  if (!leaf) return {};
  Tensor g = grads.at(0);
  if (!grad_enabled()) g = g.detach();
  if (leaf->grad_holder) {
    Tensor prev(leaf->grad_holder);
    g = add(prev, g);
  }
  leaf->grad_holder = g.impl_ptr();
  return {};
}

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool needs_grad(const TensorList& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl& impl = t.impl();
  if (impl.grad_fn) return {impl.grad_fn, impl.output_nr};
  std::shared_ptr<Node> acc = impl.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    impl.grad_accumulator = acc;
  }
  return {acc, 0};
}

namespace {

std::shared_ptr<Node> record_node(const char* name, const TensorList& inputs, const std::vector<Tensor*>& outputs,
                                  BackwardFn fn, bool once_differentiable) {
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& t : inputs) edges.push_back(gradient_edge(t));
  auto node =
      std::make_shared<FunctionNode>(name, std::move(edges), outputs.size(), std::move(fn), once_differentiable);
  for (size_t i = 0; i < outputs.size(); ++i) {
    GANTRY_CHECK(is_floating(outputs[i]->dtype()), name, ": cannot record a gradient for a ",
                 dtype_name(outputs[i]->dtype()), " output");
    attach_output(node, *outputs[i], i);
  }
  return node;
}

}  // namespace

std::shared_ptr<Node> record(const char* name, const TensorList& inputs, const std::vector<Tensor*>& outputs,
                             BackwardFn fn) {
  return record_node(name, inputs, outputs, std::move(fn), false);
}

std::shared_ptr<Node> record_once_differentiable(const char* name, const TensorList& inputs,
                                                 const std::vector<Tensor*>& outputs, BackwardFn fn) {
  return record_node(name, inputs, outputs, std::move(fn), true);
}

}  // namespace gantry::autograd
