#pragma once

#include <string>

#include "store.h"

namespace access_limiter {

// A Store on a directory tree: one empty file ROOT/KEY/WINDOW-SLOT per
// admission, WINDOW the epoch second the window starts at (followed by
// "+SECONDS" for a window longer than one second) and SLOT 0..limit-1, all
// decimal. A key's policy is the link ROOT/KEY/.policy.
//
// Only operations that stay atomic across GlusterFS FUSE clients are relied
// on: open(O_CREAT|O_EXCL) claims a slot, unlink collects or releases it, and mkdir/rmdir
// make and remove a key's directory. No lock is ever taken.
//
// Windows are name prefixes, not directories: a key's directory is made once,
// and collecting a window only unlinks empty files. Directory operations are
// the expensive ones: on GlusterFS a directory lives on every brick, and on a
// local file system rmdir frees a block (a TRIM under online discard).
//
// Containment: the root may itself be a symbolic link (the operator's
// choice); below it every call is relative to an open directory and follows
// no link, so a link planted in the store is refused, never followed.
//
// The root is never created here: whoever deploys makes it, and a missing
// one is a StoreError for anything that would write (a volume that failed to
// mount must not be replaced by a local directory that splits the count).
// Key directories are created 0775 and files 0664, less the umask. One object serves one process
// (a request, or one collection): it keeps the root's and the last key's
// directories open.
class FileStore final : public Store {
 public:
  explicit FileStore(std::string root);
  ~FileStore() override;
  FileStore(const FileStore&) = delete;
  FileStore& operator=(const FileStore&) = delete;

  int countTaken(const std::string& key, const Window& window, int known_taken,
                 int limit) override;
  bool claimSlot(const std::string& key, const Window& window, int slot) override;
  void releaseSlot(const std::string& key, const Window& window, int slot) override;
  Collection collectAll(Second keep_from, Second keep_until) override;
  std::optional<KeyPolicy> readPolicy(const std::string& key) override;
  void writePolicy(const std::string& key, const KeyPolicy& policy) override;
  bool removePolicy(const std::string& key) override;
  std::vector<std::string> keys() override;
  void probe() override;

  const std::string& root() const { return root_; }

 private:
  int rootDirectory(bool required);
  int keyDirectory(const std::string& key, bool create);
  void closeKeyDirectory();
  std::string keyPath(const std::string& key) const { return root_ + "/" + key; }
  bool slotExists(int key_fd, const std::string& key, const Window& window, int slot);

  std::string root_;
  int root_fd_ = -1;   // O_PATH descriptor of the root, once opened
  std::string key_;    // the key whose directory key_fd_ is
  int key_fd_ = -1;    // O_PATH descriptor of that key's directory
  bool key_missing_ = false;  // key_'s directory was found missing
};

}  // namespace access_limiter
