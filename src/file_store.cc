#include "file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

// The name of a slot file: "<window>-<slot>".
std::string slotName(Second window, int slot) {
  return std::to_string(window) + "-" + std::to_string(slot);
}

// The window of a slot file name. Anything else found in a key directory is
// not ours and is left alone.
std::optional<Second> parseSlotWindow(std::string_view name) {
  std::size_t dash = name.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 18 || dash + 1 == name.size() ||
      name.size() - dash > 7)
    return std::nullopt;
  Second window = 0;
  for (char c : name.substr(0, dash)) {
    if (c < '0' || c > '9') return std::nullopt;
    window = window * 10 + (c - '0');
  }
  for (char c : name.substr(dash + 1))
    if (c < '0' || c > '9') return std::nullopt;
  return window;
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

bool FileStore::slotExists(int key_fd, const std::string& key_path, Second window, int slot) {
  struct stat st {};
  const std::string name = slotName(window, slot);
  if (fstatat(key_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  throw StoreError("stat", key_path + "/" + name, errno);
}

// Taken slots are a prefix (see Store), so the count is the first free slot:
// one stat when the window is full, a binary search otherwise. O(log limit),
// whatever the number of requests already made. Callers have seen slot 0.
int FileStore::countTaken(int key_fd, const std::string& key_path, Second window, int limit) {
  if (slotExists(key_fd, key_path, window, limit - 1)) return limit;
  int taken_below = 1;      // slots < taken_below are known taken (callers saw slot 0)
  int free_at = limit - 1;  // slot free_at is known free
  while (taken_below < free_at) {
    int middle = taken_below + (free_at - taken_below) / 2;
    if (slotExists(key_fd, key_path, window, middle))
      taken_below = middle + 1;
    else
      free_at = middle;
  }
  return taken_below;
}

const std::vector<FileStore::SlotFile>& FileStore::listSlots(const std::string& key) {
  listed_key_ = key;
  listed_slots_.clear();
  forEachEntry(root_ + "/" + key, [&](std::string_view name) {
    if (std::optional<Second> w = parseSlotWindow(name))
      listed_slots_.push_back(SlotFile{*w, std::string(name)});
  });
  return listed_slots_;
}

WindowState FileStore::read(const std::string& key, Second now, int limit) {
  const std::string key_path = root_ + "/" + key;
  std::optional<int> key_fd = openDirectory(AT_FDCWD, key_path, key_path);
  if (!key_fd) return {};
  Fd key_dir(*key_fd);
  if (slotExists(key_dir.get(), key_path, now, 0))
    return WindowState{now, countTaken(key_dir.get(), key_path, now, limit)};
  // No window for this second yet. A newer one means a clock ran ahead of
  // ours; the decision counts in it, so look for the newest.
  std::optional<Second> newest;
  for (const SlotFile& slot : listSlots(key))
    if (slot.window > now && (!newest || slot.window > *newest)) newest = slot.window;
  if (!newest || !slotExists(key_dir.get(), key_path, *newest, 0)) return {};
  return WindowState{*newest, countTaken(key_dir.get(), key_path, *newest, limit)};
}

// True if created or already there; false if its parent is missing.
bool FileStore::makeDirectory(const std::string& path) {
  if (mkdir(path.c_str(), kDirectoryMode) == 0 || errno == EEXIST) return true;
  if (errno == ENOENT) return false;
  throw StoreError("mkdir", path, errno);
}

bool FileStore::claimSlot(const std::string& key, Second window, int slot) {
  const std::string key_path = root_ + "/" + key;
  const std::string slot_path = key_path + "/" + slotName(window, slot);
  // Retrying a vanished parent, not failures: `--gc` may remove an idle key
  // directory between our mkdir and our create. Three rounds cover any
  // realistic interleaving; a fourth ENOENT is reported.
  for (int round = 0;; ++round) {
    int fd = open(slot_path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, kSlotMode);
    if (fd >= 0) {
      close(fd);
      return true;
    }
    if (errno == EEXIST) return false;
    if (errno != ENOENT || round == 3) throw StoreError("open", slot_path, errno);
    if (!makeDirectory(key_path) && (!makeDirectory(root_) || !makeDirectory(key_path)))
      throw StoreError("mkdir", key_path, ENOENT);
  }
}

// Unlinks the listed slots of windows older than `before`; returns how many
// windows that cleared.
int FileStore::removeSlotsBefore(const std::string& key_path, const std::vector<SlotFile>& slots,
                                 Second before) {
  std::vector<Second> cleared;
  for (const SlotFile& slot : slots) {
    if (slot.window >= before) continue;
    const std::string path = key_path + "/" + slot.name;
    // ENOENT: another collector was first.
    if (unlink(path.c_str()) != 0 && errno != ENOENT) throw StoreError("unlink", path, errno);
    if (std::find(cleared.begin(), cleared.end(), slot.window) == cleared.end())
      cleared.push_back(slot.window);
  }
  return static_cast<int>(cleared.size());
}

int FileStore::removeWindowsBefore(const std::string& key, Second before) {
  const std::vector<SlotFile>& slots = listed_key_ == key ? listed_slots_ : listSlots(key);
  return removeSlotsBefore(root_ + "/" + key, slots, before);
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
    removed += removeSlotsBefore(key_path, listSlots(key), before);
    // Succeeds only when the key is idle; a request that claimed a slot
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
