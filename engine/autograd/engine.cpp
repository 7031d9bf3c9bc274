// The backward pass: topological execution of the tape from the outputs, in reverse creation order.
#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/ops.h"

namespace gantry::autograd {
namespace {

struct NodeState {
  int dependencies = 0;
  bool needed = false;
  TensorList input_buffer;  // gradients w.r.t. this node's outputs, summed over consumers
};

struct BySequence {
  bool operator()(Node* a, Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

void add_into(TensorList& buffer, size_t slot, const Tensor& g) {
  if (!g.defined()) return;
  if (!buffer[slot].defined()) {
    buffer[slot] = g;
  } else {
    buffer[slot] = add(buffer[slot], g);
  }
}

// Runs the tape. For grad(): `targets` are the edges whose gradients are captured (and accumulator
// nodes are not run); for backward(): `targets` is empty and everything reachable runs.
TensorList run_backward(const TensorList& outputs, const TensorList& grad_outputs_in, bool retain_graph,
                        bool create_graph, const std::vector<Edge>& targets, bool allow_unused) {
  GANTRY_CHECK(grad_outputs_in.empty() || grad_outputs_in.size() == outputs.size(), "backward: got ",
               grad_outputs_in.size(), " grad_outputs for ", outputs.size(), " outputs");
  const bool capture = !targets.empty();
  GradModeGuard mode(create_graph);

  std::vector<Edge> roots;
  TensorList root_grads;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    GANTRY_CHECK(out.defined(), "backward: output ", i, " is undefined");
    GANTRY_CHECK(out.requires_grad(), "backward: output ", i, " (shape ", shape_str(out.shape()),
                 ") does not require grad and has no grad_fn");
    Tensor g = grad_outputs_in.empty() ? Tensor() : grad_outputs_in[i];
    if (!g.defined()) {
      GANTRY_CHECK(out.numel() == 1, "backward: grad_outputs can be implied only for one-element outputs; output ",
                   i, " has shape ", shape_str(out.shape()), " - pass grad_outputs");
      g = ones(out.shape(), out.dtype(), out.device());
    } else {
      GANTRY_CHECK(g.shape() == out.shape(), "backward: grad_output ", i, " has shape ", shape_str(g.shape()),
                   " but the output has shape ", shape_str(out.shape()));
      GANTRY_CHECK(g.dtype() == out.dtype() && g.device() == out.device(), "backward: grad_output ", i,
                   " has dtype/device ", dtype_name(g.dtype()), "/", g.device().str(), ", the output ",
                   dtype_name(out.dtype()), "/", out.device().str());
    }
    roots.push_back(gradient_edge(out));
    root_grads.push_back(g);
  }

  // Discover the graph and count dependencies.
  std::unordered_map<Node*, NodeState> state;
  std::vector<Node*> order;  // DFS post-order
  {
    std::unordered_set<Node*> visited;
    std::vector<std::pair<Node*, size_t>> stack;
    for (const Edge& r : roots) {
      if (visited.insert(r.fn.get()).second) stack.push_back({r.fn.get(), 0});
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->next_edges().size()) {
          const Edge& e = node->next_edges()[next++];
          if (e.valid() && visited.insert(e.fn.get()).second) stack.push_back({e.fn.get(), 0});
        } else {
          order.push_back(node);
          stack.pop_back();
        }
      }
    }
  }
  std::unordered_set<Node*> target_nodes;
  for (const Edge& t : targets) target_nodes.insert(t.fn.get());
  // Post-order visits children first, so one pass marks what leads to a target.
  for (Node* n : order) {
    NodeState& s = state[n];
    if (!capture) {
      s.needed = true;
      continue;
    }
    s.needed = target_nodes.count(n) > 0;
    for (const Edge& e : n->next_edges())
      if (e.valid() && state[e.fn.get()].needed) s.needed = true;
  }
  for (Node* n : order) {
    if (!state[n].needed) continue;
    state[n].input_buffer.resize(n->num_outputs());
    for (const Edge& e : n->next_edges())
      if (e.valid() && state[e.fn.get()].needed) state[e.fn.get()].dependencies++;
  }
  for (size_t i = 0; i < roots.size(); ++i) {
    NodeState& s = state[roots[i].fn.get()];
    if (s.needed) add_into(s.input_buffer, roots[i].input_nr, root_grads[i]);
  }

  std::unordered_map<Node*, TensorList> captured;
  std::priority_queue<Node*, std::vector<Node*>, BySequence> ready;
  {
    std::unordered_set<Node*> pushed;
    for (const Edge& r : roots) {
      Node* n = r.fn.get();
      if (state[n].needed && state[n].dependencies == 0 && pushed.insert(n).second) ready.push(n);
    }
  }
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    NodeState& s = state[node];
    if (capture && target_nodes.count(node)) captured[node] = s.input_buffer;
    if (capture && node->is_accumulator()) continue;
    // Materialise missing output gradients as zeros so rules need not handle undefined grads.
    for (size_t i = 0; i < s.input_buffer.size(); ++i)
      if (!s.input_buffer[i].defined() && i < node->output_shapes.size())
        s.input_buffer[i] = zeros(node->output_shapes[i], node->output_dtypes[i], node->output_devices[i]);
    std::vector<bool> needs(node->num_inputs(), false);
    for (size_t i = 0; i < node->num_inputs(); ++i) {
      const Edge& e = node->next_edges()[i];
      needs[i] = e.valid() && state[e.fn.get()].needed;
    }
    TensorList grads = node->apply(s.input_buffer, needs);
    s.input_buffer.clear();
    if (!retain_graph) node->release();
    for (size_t i = 0; i < node->num_inputs() && i < grads.size(); ++i) {
      const Edge& e = node->next_edges()[i];
      if (!needs[i]) continue;
      NodeState& child = state[e.fn.get()];
      if (grads[i].defined()) {
        GANTRY_CHECK(e.fn->output_shapes.empty() || grads[i].shape() == e.fn->output_shapes[e.input_nr],
                     node->name(), ": backward produced a gradient of shape ", shape_str(grads[i].shape()),
                     " for input ", i, " of shape ", shape_str(e.fn->output_shapes[e.input_nr]));
        add_into(child.input_buffer, e.input_nr, grads[i]);
      }
      if (--child.dependencies == 0) ready.push(e.fn.get());
    }
  }

  TensorList result;
  for (size_t i = 0; i < targets.size(); ++i) {
    auto it = captured.find(targets[i].fn.get());
    Tensor g;
    if (it != captured.end() && targets[i].input_nr < it->second.size()) g = it->second[targets[i].input_nr];
    GANTRY_CHECK(g.defined() || allow_unused, "grad: input ", i,
                 " is not used by the outputs (or does not receive a gradient); pass allow_unused=true");
    if (g.defined() && !create_graph) g = g.detach();
    result.push_back(g);
  }
  return result;
}

}  // namespace

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph) {
  run_backward(outputs, grad_outputs, retain_graph || create_graph, create_graph, {}, false);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool create_graph, int retain_graph, bool allow_unused) {
  std::vector<Edge> targets;
  for (size_t i = 0; i < inputs.size(); ++i) {
    GANTRY_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "grad: input ", i,
                 " does not require grad");
    targets.push_back(gradient_edge(inputs[i]));
  }
  const bool retain = retain_graph < 0 ? create_graph : retain_graph != 0;
  return run_backward(outputs, grad_outputs, retain, create_graph, targets, allow_unused);
}

}  // namespace gantry::autograd
