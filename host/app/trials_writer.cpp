// trials_writer.cpp — the gzip stream of trials.csv.gz and its atomic commit.
#include "host/app/trials_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "host/app/output.h"

namespace isc {

TrialsCsvGz::TrialsCsvGz(const std::string& path, const std::string& header)
    : tmp_(path + ".tmp." + std::to_string(::getpid())), final_(path) {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot write " + tmp_ + ": " + std::strerror(errno));
  // zlib closes the descriptor it is given; it gets a duplicate, so that ours can be synced after.
  const int dup = ::dup(fd_);
  gz_ = dup < 0 ? nullptr : gzdopen(dup, "wb6");
  if (!gz_) {
    if (dup >= 0) ::close(dup);
    ::close(fd_);
    ::unlink(tmp_.c_str());
    throw std::runtime_error("cannot start the gzip stream of " + tmp_);
  }
  if (!header.empty()) put(header);
}

TrialsCsvGz::~TrialsCsvGz() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void TrialsCsvGz::put(const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    const unsigned len = static_cast<unsigned>(std::min<std::size_t>(text.size() - off, 1u << 30));
    if (gzwrite(static_cast<gzFile>(gz_), text.data() + off, len) != int(len)) {
      int err = 0;
      const char* msg = gzerror(static_cast<gzFile>(gz_), &err);
      throw std::runtime_error("cannot write " + tmp_ + ": " +
                               (err == Z_ERRNO ? std::string(std::strerror(errno)) : std::string(msg)));
    }
    off += len;
  }
}

void TrialsCsvGz::write(const ConfigResult& r, uint64_t first, const std::vector<TrialStats>& st) {
  put(trials_csv_rows(r, first, st));
}

void TrialsCsvGz::commit_as(const std::string& path) {
  final_ = path;
  commit();
}

void TrialsCsvGz::commit() {
  const int rc = gzclose(static_cast<gzFile>(gz_));
  gz_ = nullptr;
  if (rc != Z_OK) throw std::runtime_error("cannot finish " + tmp_ + " (zlib error " + std::to_string(rc) + ")");
  if (::fsync(fd_) != 0) throw std::runtime_error("cannot flush " + tmp_ + ": " + std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_.c_str(), final_.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp_.c_str());
    throw std::runtime_error("cannot rename " + tmp_ + " to " + final_ + ": " + err);
  }
}

}  // namespace isc
