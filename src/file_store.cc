#include "file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>
#include <vector>

#include "key.h"

namespace access_limiter {

namespace {

// The store's names are keys, and keys can be credentials: only the
// store's owner (the web server's user) may list or read them.
constexpr mode_t kDirectoryMode = 0700;
constexpr mode_t kSlotMode = 0600;

// Directories below the root are opened with these. O_PATH|O_NOFOLLOW opens
// a symbolic link as itself, which O_DIRECTORY then refuses with ENOTDIR: a
// link is never followed. O_PATH needs no read permission and, on a FUSE
// mount, no round trip to the server.
constexpr int kDirectoryFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// A descriptor closed when it leaves scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The name of a slot file: "<start>-<slot>" in a one-second window,
// "<start>+<seconds>-<slot>" in a longer one.
std::string slotName(const Window& window, int slot) {
  std::string name = std::to_string(window.start);
  if (window.seconds != 1) name += "+" + std::to_string(window.seconds);
  return name + "-" + std::to_string(slot);
}

// Where a key's policy is kept, beside its slots: a symbolic link whose
// target is the policy's text, so that reading it is one readlink, one round
// trip on a network file system, where a file would take an open, a read
// and a close. It is read, never followed.
constexpr char kPolicyName[] = ".policy";

// True for a decimal number as slotName writes one: digits, no leading zero.
bool isCanonicalNumber(std::string_view digits) {
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  return true;
}

Second parseNumber(std::string_view digits) {
  Second value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// The window of a slot file name, exactly as slotName writes it. Anything
// else found in a key directory is not ours and is left alone.
std::optional<Window> parseSlotWindow(std::string_view name) {
  const std::size_t dash = name.find('-');
  if (dash == std::string_view::npos || name.size() - dash > 7 ||
      !isCanonicalNumber(name.substr(dash + 1)))
    return std::nullopt;
  std::string_view start = name.substr(0, dash);
  std::string_view seconds = "1";
  if (const std::size_t plus = start.find('+'); plus != std::string_view::npos) {
    seconds = start.substr(plus + 1);
    start = start.substr(0, plus);
    if (seconds == "1" || seconds.size() > 5 || !isCanonicalNumber(seconds)) return std::nullopt;
  }
  if (start.size() > 18 || !isCanonicalNumber(start)) return std::nullopt;
  const Second length = parseNumber(seconds);
  if (length > kMaxWindowSeconds) return std::nullopt;
  return Window(parseNumber(start), length);
}

struct Entry {
  std::string name;
  unsigned char type;  // dirent's d_type: DT_REG, DT_DIR, ..., or DT_UNKNOWN
};

// The entries of the directory open at `dir_fd`, except "." and "..".
std::vector<Entry> listDirectory(int dir_fd, const std::string& path) {
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw StoreError("opendir", path, errno);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int error = errno;
    close(fd);
    throw StoreError("opendir", path, error);
  }
  std::vector<Entry> names;
  for (;;) {
    errno = 0;
    dirent* entry = readdir(dir);
    if (entry == nullptr) break;
    std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.push_back(Entry{std::string(name), entry->d_type});
  }
  const int error = errno;
  closedir(dir);
  if (error != 0) throw StoreError("readdir", path, error);
  return names;
}

// True when the entry is a regular file: a slot, if its name is one. A link,
// a directory or a device named like a slot is not ours.
bool isRegularFile(int dir_fd, const Entry& entry) {
  if (entry.type != DT_UNKNOWN) return entry.type == DT_REG;
  struct stat st {};
  return fstatat(dir_fd, entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

// Unlinks the slot files in `dir_fd` whose window does not overlap
// [keep_from, keep_until], adding what it removed to `done`, and what it
// could not to done.errors: it goes on past each.
void removeSlotsOutside(int dir_fd, const std::string& path, Second keep_from,
                        Second keep_until, Collection& done) {
  std::vector<Window> cleared;
  for (const Entry& entry : listDirectory(dir_fd, path)) {
    const std::string& name = entry.name;
    const std::optional<Window> window = parseSlotWindow(name);
    if (!window || (window->start <= keep_until && window->end() > keep_from)) continue;
    if (!isRegularFile(dir_fd, entry)) continue;
    // ENOENT: another collector was first.
    if (unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      done.errors.push_back(StoreError("unlink", path + "/" + name, errno).what());
      continue;
    }
    if (std::find(cleared.begin(), cleared.end(), *window) != cleared.end()) continue;
    cleared.push_back(*window);
    ++done.windows_removed;
    if (window->start > keep_until) {
      ++done.future_windows_removed;
      done.furthest_future = std::max(done.furthest_future, window->start);
    }
  }
}

}  // namespace

StoreError::StoreError(const std::string& call, const std::string& path, int error_number)
    : std::runtime_error(call + "(" + path + "): " + std::strerror(error_number)),
      error_number_(error_number) {}

FileStore::FileStore(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

FileStore::~FileStore() {
  closeKeyDirectory();
  if (root_fd_ >= 0) close(root_fd_);
}

// The root's descriptor; -1 when it does not exist and is not `required`.
int FileStore::rootDirectory(bool required) {
  if (root_fd_ >= 0) return root_fd_;
  root_fd_ = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ >= 0) return root_fd_;
  if (errno != ENOENT) throw StoreError("open", root_, errno);
  if (!required) return -1;
  // Never made here: on a node whose volume failed to mount, a root made
  // on the local disk would count that node's requests apart from the
  // cluster's, and its health check would pass. Deploying makes it.
  throw StoreError("ACCESS_ROOT " + root_ +
                       " does not exist: requests never create it (a volume not mounted?)",
                   ENOENT);
}

// The key directory's descriptor; -1 when it does not exist and `create` is
// false. A link or a file in its place is a StoreError (ENOTDIR).
int FileStore::keyDirectory(const std::string& key, bool create) {
  if (key_fd_ >= 0 && key_ == key) return key_fd_;
  // Seen missing by this request's read a moment ago: make it straight away
  // (EEXIST if someone else just did), saving a lookup, a round trip on a
  // network file system.
  const bool seen_missing = key_missing_ && key_ == key;
  closeKeyDirectory();
  const int root_fd = rootDirectory(create);
  if (root_fd < 0) return -1;
  int fd = -1;
  errno = ENOENT;
  if (!(seen_missing && create)) fd = openat(root_fd, key.c_str(), kDirectoryFlags);
  // Retrying a vanished directory, not failures: `--gc` may remove an idle
  // key's empty directory between our mkdir and our open. Three rounds
  // cover any realistic interleaving.
  for (int round = 0; fd < 0 && errno == ENOENT && create && round < 3; ++round) {
    if (mkdirat(root_fd, key.c_str(), kDirectoryMode) != 0 && errno != EEXIST)
      throw StoreError("mkdir", keyPath(key), errno);
    fd = openat(root_fd, key.c_str(), kDirectoryFlags);
  }
  if (fd < 0) {
    if (errno == ENOENT && !create) {
      key_ = key;
      key_missing_ = true;
      return -1;
    }
    throw StoreError("open", keyPath(key), errno == ELOOP ? ENOTDIR : errno);
  }
  key_ = key;
  key_fd_ = fd;
  return key_fd_;
}

void FileStore::closeKeyDirectory() {
  if (key_fd_ >= 0) close(key_fd_);
  key_fd_ = -1;
  key_.clear();
  key_missing_ = false;
}

bool FileStore::slotExists(int key_fd, const std::string& key, const Window& window, int slot) {
  struct stat st {};
  const std::string name = slotName(window, slot);
  if (fstatat(key_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  throw StoreError("stat", keyPath(key) + "/" + name, errno);
}

// Taken slots are a prefix (see Store), so the count is the first free slot
// at or after known_taken. One stat answers "full" (the last slot), the case
// of a node that finds a window other nodes filled; otherwise the search
// gallops from known_taken (1, 2, 4, ... slots on) and then halves. So its
// cost is O(log) of the slots taken beyond what the caller knew.
int FileStore::countTaken(const std::string& key, const Window& window, int known_taken,
                          int limit) {
  if (known_taken >= limit) return limit;
  const int key_fd = keyDirectory(key, false);
  if (key_fd < 0) return 0;
  if (known_taken == 0 && !slotExists(key_fd, key, window, 0)) return 0;
  int taken_below = std::max(known_taken, 1);  // slots below it are taken
  if (taken_below >= limit || slotExists(key_fd, key, window, limit - 1)) return limit;
  int free_at = limit - 1;  // known free
  for (int step = 1; taken_below + step - 1 < free_at; step *= 2) {
    const int probe = taken_below + step - 1;
    if (!slotExists(key_fd, key, window, probe)) {
      free_at = probe;
      break;
    }
    taken_below = probe + 1;
  }
  while (taken_below < free_at) {
    const int middle = taken_below + (free_at - taken_below) / 2;
    if (slotExists(key_fd, key, window, middle))
      taken_below = middle + 1;
    else
      free_at = middle;
  }
  return taken_below;
}

bool FileStore::claimSlot(const std::string& key, const Window& window, int slot) {
  const std::string name = slotName(window, slot);
  // Retrying a vanished directory, not failures: `--gc` may remove an idle
  // key's directory between our open and our create. Three rounds cover any
  // realistic interleaving; a third ENOENT is reported.
  for (int round = 0;; ++round) {
    const int key_fd = keyDirectory(key, true);
    int fd = openat(key_fd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                    kSlotMode);
    if (fd >= 0) {
      close(fd);
      return true;
    }
    if (errno == EEXIST) return false;
    if (errno != ENOENT || round == 2) throw StoreError("open", keyPath(key) + "/" + name, errno);
    closeKeyDirectory();
  }
}

void FileStore::releaseSlot(const std::string& key, const Window& window, int slot) {
  const std::string name = slotName(window, slot);
  const int key_fd = keyDirectory(key, false);
  if (key_fd < 0) return;
  if (unlinkat(key_fd, name.c_str(), 0) != 0 && errno != ENOENT)
    throw StoreError("unlink", keyPath(key) + "/" + name, errno);
}

Collection FileStore::collectAll(Second keep_from, Second keep_until) {
  Collection done;
  // A missing root is an error here, not an empty store: a mistyped path or
  // an unmounted volume must not look like a store with nothing to collect.
  const int root_fd = rootDirectory(false);
  if (root_fd < 0) throw StoreError("open", root_, ENOENT);
  for (const Entry& entry : listDirectory(root_fd, root_)) {
    const std::string& name = entry.name;
    // Not a key name: not ours (probes, lost+found, an operator's files).
    if (!isValidKey(name) || (entry.type != DT_UNKNOWN && entry.type != DT_DIR)) continue;
    const std::string path = keyPath(name);
    Fd key_dir(openat(root_fd, name.c_str(), kDirectoryFlags));
    if (key_dir.get() < 0) {
      // A file or a link where a key would be is not ours either.
      if (errno != ENOTDIR && errno != ELOOP && errno != ENOENT)
        done.errors.push_back(StoreError("open", path, errno).what());
      continue;
    }
    const std::size_t errors_before = done.errors.size();
    try {
      removeSlotsOutside(key_dir.get(), path, keep_from, keep_until, done);
    } catch (const StoreError& e) {
      done.errors.push_back(e.what());
    }
    if (done.errors.size() != errors_before) continue;
    // Succeeds only when the key is idle; a request that claimed a slot
    // meanwhile makes it fail with ENOTEMPTY, which is the right outcome.
    if (unlinkat(root_fd, name.c_str(), AT_REMOVEDIR) == 0)
      ++done.keys_removed;
    else if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
      done.errors.push_back(StoreError("rmdir", path, errno).what());
  }
  return done;
}

std::optional<KeyPolicy> FileStore::readPolicy(const std::string& key) {
  const int key_fd = keyDirectory(key, false);
  if (key_fd < 0) return std::nullopt;
  char text[128];
  const ssize_t length = readlinkat(key_fd, kPolicyName, text, sizeof text);
  const std::string path = keyPath(key) + "/" + kPolicyName;
  if (length < 0) {
    if (errno == ENOENT) return std::nullopt;
    // EINVAL: something that is not a link stands there: not a policy.
    if (errno == EINVAL) throw StoreError(path + " is not a policy", EINVAL);
    throw StoreError("readlink", path, errno);
  }
  std::optional<KeyPolicy> policy;
  if (static_cast<std::size_t>(length) < sizeof text)
    policy = parsePolicy(std::string_view(text, static_cast<std::size_t>(length)));
  if (!policy) throw StoreError(path + " is not a policy", EINVAL);
  return policy;
}

void FileStore::writePolicy(const std::string& key, const KeyPolicy& policy) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  // Made beside it under a name no one else uses, then renamed over it.
  const std::string staged = std::string(kPolicyName) + ".new-" + std::to_string(getpid()) +
                             "-" + std::to_string(ts.tv_nsec);
  for (int round = 0;; ++round) {
    const int key_fd = keyDirectory(key, true);
    if (symlinkat(formatPolicy(policy).c_str(), key_fd, staged.c_str()) == 0) {
      if (renameat(key_fd, staged.c_str(), key_fd, kPolicyName) == 0) return;
      const int error = errno;
      unlinkat(key_fd, staged.c_str(), 0);
      throw StoreError("rename", keyPath(key) + "/" + kPolicyName, error);
    }
    // ENOENT: `--gc` removed the key's empty directory meanwhile; again.
    if (errno != ENOENT || round == 2)
      throw StoreError("symlink", keyPath(key) + "/" + staged, errno);
    closeKeyDirectory();
  }
}

bool FileStore::removePolicy(const std::string& key) {
  const int key_fd = keyDirectory(key, false);
  if (key_fd < 0) return false;
  if (unlinkat(key_fd, kPolicyName, 0) == 0) return true;
  if (errno == ENOENT) return false;
  throw StoreError("unlink", keyPath(key) + "/" + kPolicyName, errno);
}

std::vector<std::string> FileStore::keys() {
  std::vector<std::string> found;
  const int root_fd = rootDirectory(false);
  if (root_fd < 0) throw StoreError("open", root_, ENOENT);
  for (const Entry& entry : listDirectory(root_fd, root_))
    if (isValidKey(entry.name) && (entry.type == DT_DIR || entry.type == DT_UNKNOWN))
      found.push_back(entry.name);
  return found;
}

void FileStore::probe() {
  const int root_fd = rootDirectory(true);
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  // Dot-names can never be keys, so a probe never collides with one.
  const std::string name = ".probe-" + std::to_string(getpid()) + "-" + std::to_string(ts.tv_nsec);
  int fd = openat(root_fd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                  kSlotMode);
  if (fd < 0) throw StoreError("open", root_ + "/" + name, errno);
  close(fd);
  if (unlinkat(root_fd, name.c_str(), 0) != 0) throw StoreError("unlink", root_ + "/" + name, errno);
}

}  // namespace access_limiter
