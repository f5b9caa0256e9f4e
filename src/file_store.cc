#include "file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <optional>
#include <string_view>
#include <vector>

#include "http_status.h"

namespace access_limiter {

namespace {

constexpr mode_t kDirectoryMode = 0775;
constexpr mode_t kSlotMode = 0664;

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

// A directory stream closed when it leaves scope.
class Dir {
 public:
  explicit Dir(DIR* dir) : dir_(dir) {}
  ~Dir() {
    if (dir_ != nullptr) closedir(dir_);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

// Window directory names are epoch seconds in decimal; anything else found
// in a key directory is not ours and is left alone.
std::optional<Second> parseWindow(std::string_view name) {
  if (name.empty() || name.size() > 18) return std::nullopt;
  Second value = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Opens a directory to resolve names relative to it. nullopt if absent.
std::optional<int> openDirectory(int at_fd, const std::string& name,
                                 const std::string& path_for_errors) {
  int fd = openat(at_fd, name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno == ENOENT) return std::nullopt;
  throw StoreError("open", path_for_errors, errno);
}

// Reads a directory's entry names, except "." and "..". nullopt if absent.
template <typename Visit>
bool forEachEntry(const std::string& path, Visit visit) {
  Dir dir(opendir(path.c_str()));
  if (dir.get() == nullptr) {
    if (errno == ENOENT) return false;
    throw StoreError("opendir", path, errno);
  }
  for (;;) {
    errno = 0;
    dirent* entry = readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) throw StoreError("readdir", path, errno);
      return true;
    }
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    visit(name);
  }
}

}  // namespace

FileStore::FileStore(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

bool FileStore::slotExists(int window_fd, const std::string& window_path,
                           int slot) {
  struct stat st {};
  std::string name = std::to_string(slot);
  if (fstatat(window_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return true;
  if (errno == ENOENT) return false;
  throw StoreError("stat", window_path + "/" + name, errno);
}

// Taken slots are a prefix (see Store), so the count is the first free slot:
// one stat when the window is full, a binary search otherwise. O(log limit),
// whatever the number of requests already made.
int FileStore::countTaken(int window_fd, const std::string& window_path,
                          int limit) {
  if (slotExists(window_fd, window_path, limit - 1)) return limit;
  int taken_below = 0;   // slots < taken_below are known taken
  int free_at = limit - 1;  // slot free_at is known free
  while (taken_below < free_at) {
    int middle = taken_below + (free_at - taken_below) / 2;
    if (slotExists(window_fd, window_path, middle))
      taken_below = middle + 1;
    else
      free_at = middle;
  }
  return taken_below;
}

WindowState FileStore::read(const std::string& key, Second now, int limit) {
  const std::string key_path = root_ + "/" + key;
  std::optional<int> key_fd = openDirectory(AT_FDCWD, key_path, key_path);
  if (!key_fd) return {};
  Fd key_dir(*key_fd);

  Second window = now;
  std::optional<int> window_fd =
      openDirectory(key_dir.get(), std::to_string(now), key_path + "/" + std::to_string(now));
  if (!window_fd) {
    // No window for this second yet. A newer one means a clock ran ahead of
    // ours; the decision counts in it, so look for the newest.
    std::optional<Second> newest;
    forEachEntry(key_path, [&](std::string_view name) {
      std::optional<Second> w = parseWindow(name);
      if (w && *w > now && (!newest || *w > *newest)) newest = w;
    });
    if (!newest) return {};
    window = *newest;
    window_fd = openDirectory(key_dir.get(), std::to_string(window),
                              key_path + "/" + std::to_string(window));
    if (!window_fd) return {};  // collected meanwhile: nothing newer is left
  }
  Fd window_dir(*window_fd);
  const std::string window_path = key_path + "/" + std::to_string(window);
  return WindowState{window, countTaken(window_dir.get(), window_path, limit)};
}

void FileStore::makeDirectory(const std::string& path) {
  if (mkdir(path.c_str(), kDirectoryMode) == 0 || errno == EEXIST) return;
  throw StoreError("mkdir", path, errno);
}

bool FileStore::claimSlot(const std::string& key, Second window, int slot) {
  const std::string key_path = root_ + "/" + key;
  const std::string window_path = key_path + "/" + std::to_string(window);
  const std::string slot_path = window_path + "/" + std::to_string(slot);
  // Retrying a vanished parent, not failures: `--gc` may remove an empty key
  // directory between our mkdir and our create. Three rounds cover any
  // realistic interleaving; a fourth ENOENT is reported.
  for (int round = 0;; ++round) {
    int fd = open(slot_path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
                  kSlotMode);
    if (fd >= 0) {
      close(fd);
      return true;
    }
    if (errno == EEXIST) return false;
    if (errno != ENOENT || round == 3) throw StoreError("open", slot_path, errno);
    makeDirectory(root_);
    makeDirectory(key_path);
    makeDirectory(window_path);
  }
}

bool FileStore::removeWindow(const std::string& window_path) {
  bool present = forEachEntry(window_path, [&](std::string_view name) {
    std::string path = window_path + "/" + std::string(name);
    if (unlink(path.c_str()) != 0 && errno != ENOENT)
      throw StoreError("unlink", path, errno);
  });
  if (!present) return false;
  if (rmdir(window_path.c_str()) == 0) return true;
  // ENOENT: another collector won. ENOTEMPTY/EEXIST: a request with a lagging
  // clock claimed a slot meanwhile; the next collection takes it.
  if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) return false;
  throw StoreError("rmdir", window_path, errno);
}

int FileStore::removeWindowsIn(const std::string& key_path, Second before) {
  std::vector<std::string> old_windows;
  forEachEntry(key_path, [&](std::string_view name) {
    std::optional<Second> w = parseWindow(name);
    if (w && *w < before) old_windows.emplace_back(name);
  });
  int removed = 0;
  for (const std::string& name : old_windows)
    if (removeWindow(key_path + "/" + name)) ++removed;
  return removed;
}

int FileStore::removeWindowsBefore(const std::string& key, Second before) {
  return removeWindowsIn(root_ + "/" + key, before);
}

int FileStore::removeAllWindowsBefore(Second before) {
  std::vector<std::string> keys;
  forEachEntry(root_, [&](std::string_view name) {
    if (name.front() != '.') keys.emplace_back(name);
  });
  int removed = 0;
  for (const std::string& key : keys) {
    const std::string key_path = root_ + "/" + key;
    struct stat st {};
    if (lstat(key_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    removed += removeWindowsIn(key_path, before);
    // Succeeds only when the key is idle; a request that opened a window
    // meanwhile makes it fail with ENOTEMPTY, which is the right outcome.
    if (rmdir(key_path.c_str()) != 0 && errno != ENOTEMPTY &&
        errno != EEXIST && errno != ENOENT)
      throw StoreError("rmdir", key_path, errno);
  }
  return removed;
}

void FileStore::probe() {
  makeDirectory(root_);
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  // Dot-names can never be keys, so a probe never collides with one.
  const std::string path = root_ + "/.probe-" + std::to_string(getpid()) + "-" +
                           std::to_string(ts.tv_nsec);
  int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, kSlotMode);
  if (fd < 0) throw StoreError("open", path, errno);
  close(fd);
  if (unlink(path.c_str()) != 0) throw StoreError("unlink", path, errno);
}

}  // namespace access_limiter
