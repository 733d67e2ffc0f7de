// multi_backend.h — several devices as one backend: its workers are every device's workers, each
// pulling chunks from the runner's one queue.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/backend/backend.h"

namespace isc {

// `make_device(i)` creates a fresh backend on device i (a worker of a device that has one worker
// is a new backend on that device). The results are the same bits as on one device of the kind:
// a trial's statistics do not depend on which worker computed it, nor the across-trial aggregate
// on how trials were grouped. Ops called on the multi-device backend itself go to device 0.
std::unique_ptr<Backend> make_multi_backend(std::size_t devices,
                                            const std::function<std::unique_ptr<Backend>(std::size_t)>& make_device);

}  // namespace isc
