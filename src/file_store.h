#pragma once

#include <string>

#include "store.h"

namespace access_limiter {

// A Store on a directory tree: ROOT/KEY/WINDOW/SLOT, one empty file per
// admission. WINDOW is the epoch second in decimal, SLOT is 0..limit-1.
//
// Only operations that stay atomic across GlusterFS FUSE clients are relied
// on: open(O_CREAT|O_EXCL) claims a slot, mkdir/unlink/rmdir manage the tree.
// No lock is ever taken.
//
// The root is created on first use (its parent must exist). Directories are
// created 0775 and files 0664, less the umask.
class FileStore final : public Store {
 public:
  explicit FileStore(std::string root);

  WindowState read(const std::string& key, Second now, int limit) override;
  bool claimSlot(const std::string& key, Second window, int slot) override;
  int removeWindowsBefore(const std::string& key, Second before) override;
  int removeAllWindowsBefore(Second before) override;
  void probe() override;

  const std::string& root() const { return root_; }

 private:
  int countTaken(int window_fd, const std::string& window_path, int limit);
  bool slotExists(int window_fd, const std::string& window_path, int slot);
  int removeWindowsIn(const std::string& key_path, Second before);
  bool removeWindow(const std::string& window_path);
  void makeDirectory(const std::string& path);

  std::string root_;
};

}  // namespace access_limiter
