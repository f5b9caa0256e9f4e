#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "file_store.h"
#include "memory_store.h"
#include "store_conformance.h"
#include "temp_dir.h"

using namespace access_limiter;
using access_limiter::testing::TempDir;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(file_store)

BOOST_AUTO_TEST_CASE(conforms_to_the_store_contract) {
  TempDir dir;
  int n = 0;
  testing::checkStoreConformance([&] {
    const std::string root = dir.path() + "/root" + std::to_string(n++);
    fs::create_directory(root);
    return std::make_unique<FileStore>(root);
  });
}

BOOST_AUTO_TEST_CASE(memory_store_conforms_too) {
  testing::checkStoreConformance([] { return std::make_unique<testing::MemoryStore>(); });
}

BOOST_AUTO_TEST_CASE(one_empty_file_per_admission_at_root_key_window_dash_slot) {
  TempDir dir;
  fs::create_directory(dir.path() + "/access");
  FileStore store(dir.path() + "/access");
  BOOST_TEST(store.claimSlot("demo", 1700000000, 0));
  BOOST_TEST(store.claimSlot("demo", 1700000000, 1));
  const fs::path key = fs::path(dir.path()) / "access" / "demo";
  BOOST_TEST(fs::is_regular_file(key / "1700000000-0"));
  BOOST_TEST(fs::file_size(key / "1700000000-1") == 0u);
  BOOST_TEST(std::distance(fs::directory_iterator(key), fs::directory_iterator()) == 2);
}

BOOST_AUTO_TEST_CASE(collection_unlinks_old_slots_and_keeps_the_key_directory) {
  TempDir dir;
  FileStore store(dir.path());
  for (Second w : {100, 101, 102})
    for (int slot = 0; slot < 3; ++slot) BOOST_TEST(store.claimSlot("k", w, slot));
  BOOST_TEST(store.collectAll(102, 103).windows_removed == 2);
  const fs::path key = fs::path(dir.path()) / "k";
  BOOST_TEST(std::distance(fs::directory_iterator(key), fs::directory_iterator()) == 3);
  BOOST_TEST(fs::exists(key / "102-2"));
}

// A volume that failed to mount must not be replaced by a local directory:
// the root is the deployer's to make, never a request's.
BOOST_AUTO_TEST_CASE(a_missing_root_is_never_created) {
  TempDir dir;
  FileStore store(dir.path() + "/access");
  BOOST_TEST(store.countTaken("demo", 100, 0, 10) == 0);
  try {
    store.claimSlot("demo", 100, 0);
    BOOST_FAIL("a claim under a missing root succeeded");
  } catch (const StoreError& e) {
    BOOST_TEST(e.errorNumber() == ENOENT);
    BOOST_TEST(std::string(e.what()).find("does not exist: requests never create it") !=
               std::string::npos);
  }
  BOOST_CHECK_THROW(store.probe(), StoreError);
  BOOST_TEST(!fs::exists(dir.path() + "/access"));
}

BOOST_AUTO_TEST_CASE(reading_creates_nothing) {
  TempDir dir;
  fs::create_directory(dir.path() + "/access");
  FileStore store(dir.path() + "/access");
  BOOST_TEST(store.countTaken("demo", 100, 0, 10) == 0);
  BOOST_TEST(store.claimSlot("demo", 100, 0));
  BOOST_TEST(store.countTaken("other", 100, 0, 10) == 0);
  BOOST_TEST(store.countTaken("demo", 101, 0, 10) == 0);
  BOOST_TEST(!fs::exists(dir.path() + "/access/other"));
  BOOST_TEST(!fs::exists(dir.path() + "/access/demo/101-0"));
}

BOOST_AUTO_TEST_CASE(a_trailing_slash_on_the_root_is_ignored) {
  TempDir dir;
  fs::create_directory(dir.path() + "/access");
  FileStore store(dir.path() + "/access///");
  BOOST_TEST(store.root() == dir.path() + "/access");
  BOOST_TEST(store.claimSlot("k", 1, 0));
}

BOOST_AUTO_TEST_CASE(foreign_entries_are_left_alone) {
  TempDir dir;
  FileStore store(dir.path());
  BOOST_TEST(store.claimSlot("k", 100, 0));
  std::ofstream(dir.path() + "/k/notes.txt") << "operator's file";
  std::ofstream(dir.path() + "/k/12-x") << "not a slot name";
  std::ofstream(dir.path() + "/.probe-keep") << "";
  BOOST_TEST(store.countTaken("k", 100, 0, 10) == 1);
  BOOST_TEST(store.collectAll(200, 201).windows_removed == 1);
  BOOST_TEST(fs::exists(dir.path() + "/k/notes.txt"));
  BOOST_TEST(fs::exists(dir.path() + "/k/12-x"));
  BOOST_TEST(fs::exists(dir.path() + "/.probe-keep"));
}

// A link planted inside the store (by anyone who can write there) is never
// followed: nothing is created, read or removed outside the root.
BOOST_AUTO_TEST_CASE(links_inside_the_root_are_never_followed) {
  TempDir dir;
  const std::string root = dir.path() + "/access";
  const std::string outside = dir.path() + "/outside";
  fs::create_directories(root);
  fs::create_directories(outside);
  std::ofstream(outside + "/100-0") << "";  // a slot-like name out there
  fs::create_directory_symlink(outside, root + "/evil");
  FileStore store(root);
  BOOST_CHECK_THROW(store.claimSlot("evil", 1700000000, 0), StoreError);
  BOOST_CHECK_THROW(store.countTaken("evil", 100, 0, 10), StoreError);
  Collection done = store.collectAll(200, 201);
  BOOST_TEST(done.errors.empty());  // a link is not a key: skipped, not an error
  BOOST_TEST(fs::exists(outside + "/100-0"));
  BOOST_TEST(std::distance(fs::directory_iterator(outside), fs::directory_iterator()) == 1);
  BOOST_TEST(fs::is_symlink(root + "/evil"));

  // A link in place of a slot is counted as taken, never written through,
  // and not ours to remove: collection leaves it and its target alone.
  BOOST_TEST(store.claimSlot("k", 100, 0));
  fs::create_symlink(outside + "/100-0", root + "/k/100-1");
  BOOST_TEST(store.countTaken("k", 100, 0, 10) == 2);
  BOOST_TEST(!store.claimSlot("k", 100, 1));
  BOOST_TEST(store.collectAll(200, 201).windows_removed == 1);
  BOOST_TEST(fs::exists(outside + "/100-0"));
  BOOST_TEST(fs::is_symlink(root + "/k/100-1"));
  BOOST_TEST(!fs::exists(root + "/k/100-0"));
}

// A policy is a link read, never followed; anything else in its place is
// not a policy, and says so.
BOOST_AUTO_TEST_CASE(a_policy_is_a_link_read_never_followed) {
  TempDir dir;
  FileStore store(dir.path());
  store.writePolicy("k", KeyPolicy{KeyPolicy::Kind::kLimit, 25});
  BOOST_TEST(fs::read_symlink(dir.path() + "/k/.policy").string() == "limit=25");
  fs::create_directory(dir.path() + "/limit=99");  // a target that exists changes nothing
  BOOST_TEST((store.readPolicy("k") == KeyPolicy{KeyPolicy::Kind::kLimit, 25}));
  fs::remove(dir.path() + "/k/.policy");
  std::ofstream(dir.path() + "/k/.policy") << "limit=5";  // a file, not a link
  try {
    store.readPolicy("k");
    BOOST_ERROR("a file was read as a policy");
  } catch (const StoreError& e) {
    BOOST_TEST(std::string(e.what()) == dir.path() + "/k/.policy is not a policy");
  }
  fs::remove(dir.path() + "/k/.policy");
  fs::create_symlink("limit=banana", dir.path() + "/k/.policy");
  try {
    store.readPolicy("k");
    BOOST_ERROR("a malformed policy was read");
  } catch (const StoreError& e) {
    BOOST_TEST(std::string(e.what()) == dir.path() + "/k/.policy is not a policy");
  }
  BOOST_TEST(store.claimSlot("k", Window(120, 60), 0));
  BOOST_TEST(fs::exists(dir.path() + "/k/120+60-0"));
}

BOOST_AUTO_TEST_CASE(only_canonical_regular_slot_files_are_collected) {
  TempDir dir;
  FileStore store(dir.path());
  BOOST_TEST(store.claimSlot("k", 100, 0));
  const std::string key = dir.path() + "/k/";
  for (const char* name : {"0100-1", "100-01", "100-", "-1", "100-1234567", "1e2-0", "100+1-0",
                           "100+060-0", "100+86401-0", "100+-0"})
    std::ofstream(key + name) << "";
  fs::create_directory(key + "100-2");
  std::ofstream(key + "100-2/inside") << "";
  BOOST_TEST(mkfifo((key + "100-3").c_str(), 0600) == 0);
  Collection done = store.collectAll(200, 201);
  BOOST_TEST(done.windows_removed == 1);
  BOOST_TEST(done.errors.empty());
  BOOST_TEST(!fs::exists(key + "100-0"));
  for (const char* name : {"0100-1", "100-01", "100-", "-1", "100-1234567", "1e2-0", "100+1-0",
                           "100+060-0", "100+86401-0", "100+-0", "100-2", "100-3"})
    BOOST_TEST(fs::exists(fs::symlink_status(key + name)), name << " is left alone");
}

BOOST_AUTO_TEST_CASE(collection_goes_on_past_an_entry_it_may_not_remove) {
  TempDir dir;
  FileStore store(dir.path());
  for (Second w = 100; w < 120; ++w) BOOST_TEST(store.claimSlot("k", w, 0));
  // A directory where a slot of window 110 would be: not a slot file.
  fs::create_directories(dir.path() + "/k/110-5/inside");
  Collection done = store.collectAll(200, 201);
  BOOST_TEST(done.windows_removed == 20);
  BOOST_TEST(done.errors.empty());
  BOOST_TEST(std::distance(fs::directory_iterator(dir.path() + "/k"), fs::directory_iterator()) == 1);
  // Slots it may not unlink (a key directory of someone else's, for --gc
  // run as www-data) are named in Collection::errors, one each, and the
  // rest still go: tests/cli/store_containment.t runs that as www-data.
}

BOOST_AUTO_TEST_CASE(collecting_everything_removes_only_what_is_ours) {
  TempDir dir;
  FileStore store(dir.path());
  for (const char* key : {"a", "m", "z"}) BOOST_TEST(store.claimSlot(key, 100, 0));
  // Not keys: never removed, even when empty.
  fs::create_directory(dir.path() + "/lost+found");
  fs::create_directory(dir.path() + "/.snapshots");
  std::ofstream(dir.path() + "/README") << "operator's notes";
  // A key with a file of someone else's: listed, its slot collected, kept.
  std::ofstream(dir.path() + "/m/notes") << "";
  Collection done = store.collectAll(200, 201);
  BOOST_TEST(!fs::exists(dir.path() + "/a"));
  BOOST_TEST(!fs::exists(dir.path() + "/z"));
  BOOST_TEST(fs::is_directory(dir.path() + "/lost+found"));
  BOOST_TEST(fs::is_directory(dir.path() + "/.snapshots"));
  BOOST_TEST(fs::exists(dir.path() + "/README"));
  BOOST_TEST(fs::exists(dir.path() + "/m/notes"));
  BOOST_TEST(!fs::exists(dir.path() + "/m/100-0"));
  BOOST_TEST(done.keys_removed == 2);
  BOOST_TEST(done.windows_removed == 3);
  BOOST_TEST(done.errors.empty());
  // What cannot be read (a key directory of root's, for --gc run as
  // www-data) is tested through the program: tests/cli/store_containment.t.
}

BOOST_AUTO_TEST_CASE(the_probe_leaves_nothing_behind) {
  TempDir dir;
  fs::create_directory(dir.path() + "/access");
  FileStore store(dir.path() + "/access");
  store.probe();
  BOOST_TEST(fs::is_directory(dir.path() + "/access"));
  BOOST_TEST(fs::is_empty(dir.path() + "/access"));
}

BOOST_AUTO_TEST_CASE(failures_name_the_call_and_the_path) {
  TempDir dir;
  const std::string not_a_directory = dir.path() + "/file";
  std::ofstream(not_a_directory) << "x";
  FileStore store(not_a_directory);
  try {
    store.claimSlot("k", 100, 0);
    BOOST_FAIL("claiming under a regular file must fail");
  } catch (const StoreError& e) {
    BOOST_TEST(e.errorNumber() == ENOTDIR);
    BOOST_TEST(std::string(e.what()).rfind("open(" + not_a_directory + ")", 0) == 0);
  }
  BOOST_CHECK_THROW(store.probe(), StoreError);
  BOOST_CHECK_THROW(FileStore(dir.path() + "/no/such/parent").claimSlot("k", 1, 0), StoreError);
}

BOOST_AUTO_TEST_SUITE_END()
