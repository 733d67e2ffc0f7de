// backends.h — choosing a backend from --device, and the device list for `initscope info`.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "host/backend/backend.h"

namespace isc {

// Creates a backend from "auto", "cpu", "cuda" or "cuda:N"; throws with the reason if it cannot.
std::unique_ptr<Backend> make_backend(const std::string& device, const BackendOptions& opt);
// Human-readable list of the devices found (for `initscope info`).
std::vector<std::string> describe_devices();

}  // namespace isc
