#pragma once
// Splits a list of updates into one list per device (type and index), in first-seen order, so each
// device's fused kernel gets one call with everything it owns.
#include <utility>
#include <vector>

#include "engine/core/device.h"

namespace gantry::optim {

template <typename Item, typename DeviceOf>
std::vector<std::pair<Device, std::vector<Item>>> group_by_device(std::vector<Item> items, DeviceOf device_of) {
  std::vector<std::pair<Device, std::vector<Item>>> groups;
  for (Item& item : items) {
    const Device device = device_of(item);
    auto it = groups.begin();
    while (it != groups.end() && it->first != device) ++it;
    if (it == groups.end()) it = groups.insert(groups.end(), {device, {}});
    it->second.push_back(std::move(item));
  }
  return groups;
}

}  // namespace gantry::optim
