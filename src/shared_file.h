#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace access_limiter {

// A file on a memory file system (/dev/shm) that every process of a node
// maps and updates with atomic operations: the node cache's tables and the
// metrics' counters. Opens `path`, creating it (mode 0600) when missing,
// and maps `bytes` of it read-write and shared. Returns the mapping, or
// nullptr with `problem` set when the file cannot be used: not a regular
// file, owned by another user, writable by others than its owner (any
// process that can write it could change what the node decides or
// reports), or out of room. Every block is allocated before the mapping, so
// a full /dev/shm is a problem here, never a SIGBUS at a later write. A new
// file's words are all 0. Unmap with munmap(mapping, bytes).
std::uint64_t* mapSharedFile(const std::string& path, std::size_t bytes, std::string& problem);

// Sets a header word that is still 0, then reads what it holds: the first
// process to set it wins, and every process ends with the same value.
std::uint64_t settleSharedWord(std::uint64_t* word, std::uint64_t wanted);

}  // namespace access_limiter
