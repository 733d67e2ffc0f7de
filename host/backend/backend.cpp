// backend.cpp — the checks every backend applies to the buffers an op is given.
#include "host/backend/backend.h"

#include <stdexcept>
#include <string>

namespace isc {

void require(const Buffer& b, std::size_t floats, const char* backend, const char* what) {
  if (b.size() < floats)
    throw std::logic_error(std::string(backend) + " backend: the " + what + " buffer holds " +
                           std::to_string(b.size()) + " floats, the op needs " + std::to_string(floats));
}

}  // namespace isc
