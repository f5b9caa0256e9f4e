#pragma once

#include <string>
#include <vector>

#include "store.h"

namespace access_limiter {

// A Store on a directory tree: one empty file ROOT/KEY/WINDOW-SLOT per
// admission, WINDOW the epoch second and SLOT 0..limit-1, both decimal.
//
// Only operations that stay atomic across GlusterFS FUSE clients are relied
// on: open(O_CREAT|O_EXCL) claims a slot, unlink collects it, and mkdir/rmdir
// make and remove a key's directory. No lock is ever taken.
//
// Windows are name prefixes, not directories: a key's directory is made once,
// and collecting a window only unlinks empty files. Directory operations are
// the expensive ones: on GlusterFS a directory lives on every brick, and on a
// local file system rmdir frees a block (a TRIM under online discard).
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
  struct SlotFile {
    Second window;
    std::string name;
  };

  int countTaken(int key_fd, const std::string& key_path, Second window, int limit);
  bool slotExists(int key_fd, const std::string& key_path, Second window, int slot);
  const std::vector<SlotFile>& listSlots(const std::string& key);
  int removeSlotsBefore(const std::string& key_path, const std::vector<SlotFile>& slots,
                        Second before);
  bool makeDirectory(const std::string& path);

  std::string root_;
  // The slot files of one key as last listed, so the collection that follows
  // an admission does not list the key directory a second time. Slots made
  // since are left for the next collection; ones removed since are skipped.
  std::string listed_key_;
  std::vector<SlotFile> listed_slots_;
};

}  // namespace access_limiter
