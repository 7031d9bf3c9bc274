// A program using gantry as a library: a matrix product (an OpenBLAS-backed kernel found through the
// dispatch tables), a reduction and a backward pass. loss = sum(x w) = 30 and d loss / d x = the row
// sums of w, [1 1 2] on every row.
#include <iostream>
#include <vector>

#include "engine/ops/ops.h"

int main() {
  using namespace gantry;
  const Tensor x = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}).set_requires_grad();
  const Tensor w = from_vector(std::vector<float>{1, 0, 0, 1, 1, 1}, {3, 2});
  const Tensor loss = sum(matmul(x, w));
  loss.backward();
  std::cout << "loss " << loss.item<float>() << "\ngrad";
  for (float g : to_vector<float>(x.grad())) std::cout << ' ' << g;
  std::cout << '\n';
}
