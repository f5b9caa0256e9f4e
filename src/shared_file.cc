#include "shared_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace access_limiter {

namespace {

std::string failure(const char* call, const std::string& path) {
  return std::string(call) + "(" + path + "): " + std::strerror(errno);
}

// Gives the file all its blocks now, so that a full /dev/shm is an error
// here rather than a SIGBUS at the first write, and a file-size limit
// (RLIMIT_FSIZE) is EFBIG rather than a SIGXFSZ that would end the process.
std::string allocate(int fd, const std::string& path, std::size_t bytes) {
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ignore, &previous);
  const int error = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  sigaction(SIGXFSZ, &previous, nullptr);
  if (error == 0) return "";
  errno = error;
  return failure("fallocate", path);
}

}  // namespace

std::uint64_t* mapSharedFile(const std::string& path, std::size_t bytes, std::string& problem) {
  problem.clear();
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    problem = failure("open", path);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0)
    problem = failure("stat", path);
  else if (!S_ISREG(st.st_mode))
    problem = path + " is not a regular file";
  else if (st.st_uid != geteuid())
    problem = path + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user (uid " +
              std::to_string(geteuid()) + ")";
  else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    problem = path + " is writable by others than its owner";
  // Never shrunk, and every block there before the mapping is used. The
  // size too: a process that created the file may still be allocating it
  // (its blocks there, its size not yet set), and a mapping past the end of
  // the file is a SIGBUS at the first touch; fallocate waits for the other
  // process's and ends with the size set.
  else if (static_cast<std::size_t>(st.st_size) < bytes ||
           static_cast<std::size_t>(st.st_blocks) * 512 < bytes)
    problem = allocate(fd, path, bytes);
  std::uint64_t* words = nullptr;
  if (problem.empty()) {
    void* mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED)
      problem = failure("mmap", path);
    else
      words = static_cast<std::uint64_t*>(mapped);
  }
  close(fd);
  return words;
}

std::uint64_t settleSharedWord(std::uint64_t* word, std::uint64_t wanted) {
  std::uint64_t expected = 0;
  __atomic_compare_exchange_n(word, &expected, wanted, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

}  // namespace access_limiter
