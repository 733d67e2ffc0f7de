// dataset.cpp — what every data set loader checks before it reads a file.
#include "host/app/data/dataset.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace isc {

void require_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error(path + ": not a regular file (" + (S_ISDIR(st.st_mode) ? "a folder" : "a device or pipe") +
                             "); give the data file itself");
}

}  // namespace isc
