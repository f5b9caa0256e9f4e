#include <boost/test/unit_test.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "node_cache.h"
#include "temp_dir.h"

using namespace access_limiter;
using access_limiter::testing::TempDir;

BOOST_AUTO_TEST_SUITE(node_cache)

BOOST_AUTO_TEST_CASE(keeps_the_newest_window_and_the_largest_count) {
  TempDir dir;
  SharedNodeCache cache(dir.path() + "/cache", "/store");
  BOOST_TEST(!cache.recall("k", 1000).has_value());
  cache.learn("k", KnownWindow{1000, 3});
  BOOST_TEST(cache.recall("k", 1000).value_or(-1) == 3);
  cache.learn("k", KnownWindow{1000, 2});  // behind what is known
  BOOST_TEST(cache.recall("k", 1000).value_or(-1) == 3);
  cache.learn("k", KnownWindow{1000, 7});
  BOOST_TEST(cache.recall("k", 1000).value_or(-1) == 7);
  cache.learn("k", KnownWindow{999, 9});  // an older window
  BOOST_TEST(!cache.recall("k", 999).has_value());
  BOOST_TEST(cache.recall("k", 1000).value_or(-1) == 7);
  cache.learn("k", KnownWindow{1001, 1});
  BOOST_TEST(cache.recall("k", 1001).value_or(-1) == 1);
  BOOST_TEST(!cache.recall("other", 1001).has_value());
}

BOOST_AUTO_TEST_CASE(knows_only_the_newest_window_of_a_key) {
  TempDir dir;
  SharedNodeCache cache(dir.path() + "/cache", "/store");
  cache.learn("k", KnownWindow{1700000000, 4});
  BOOST_TEST(cache.recall("k", 1700000000).value_or(-1) == 4);
  BOOST_TEST(!cache.recall("k", 1700000001).has_value());
  cache.learn("k", KnownWindow{1700000060, 2});  // a one-minute window later
  BOOST_TEST(!cache.recall("k", 1700000000).has_value());
  BOOST_TEST(cache.recall("k", 1700000060).value_or(-1) == 2);
  // 2^27 s (about 4 years) later the window's stored bits repeat: a fact is
  // that old only on a node idle all that time, and then it is behind.
  BOOST_TEST(!cache.recall("k", 1700000060 + 1).has_value());
}

BOOST_AUTO_TEST_CASE(scopes_sharing_the_file_keep_apart) {
  TempDir dir;
  SharedNodeCache one(dir.path() + "/cache", "/store/one");
  SharedNodeCache two(dir.path() + "/cache", "/store/two");
  one.learn("k", KnownWindow{1000, 5});
  BOOST_TEST(!two.recall("k", 1000).has_value());
  BOOST_TEST(one.recall("k", 1000).value_or(-1) == 5);
}

BOOST_AUTO_TEST_CASE(keeps_a_policy_for_the_second_it_was_read_in) {
  TempDir dir;
  SharedNodeCache cache(dir.path() + "/cache", "/store");
  BOOST_TEST(!cache.recallPolicy("k", 1000).has_value());
  cache.learnPolicy("k", 1000, KeyPolicy{KeyPolicy::Kind::kLimit, 25});
  const auto recalled = cache.recallPolicy("k", 1000);
  BOOST_TEST((recalled && *recalled == KeyPolicy{KeyPolicy::Kind::kLimit, 25}));
  BOOST_TEST(!cache.recallPolicy("k", 1001).has_value());  // read again next second
  cache.learnPolicy("k", 1001, std::nullopt);               // read: no policy
  const auto none = cache.recallPolicy("k", 1001);
  BOOST_TEST((none.has_value() && !none->has_value()));
  for (const KeyPolicy& p : {KeyPolicy{KeyPolicy::Kind::kUnlimited, 0},
                             KeyPolicy{KeyPolicy::Kind::kBlocked, 0},
                             KeyPolicy{KeyPolicy::Kind::kLimit, 0},
                             KeyPolicy{KeyPolicy::Kind::kLimit, 100000}}) {
    cache.learnPolicy("k", 1002, p);
    const auto back = cache.recallPolicy("k", 1002);
    BOOST_TEST((back && *back == p), formatPolicy(p));
  }
  cache.learn("k", KnownWindow{1002, 7});  // the two tables keep apart
  BOOST_TEST(cache.recall("k", 1002).value_or(-1) == 7);
  BOOST_TEST((cache.recallPolicy("k", 1002) == std::optional<KeyPolicy>(KeyPolicy{KeyPolicy::Kind::kLimit, 100000})));
}

// The point of the file: what one process learns, every other process on the
// node knows, and concurrent updates keep the largest count.
BOOST_AUTO_TEST_CASE(processes_share_what_they_learn) {
  TempDir dir;
  const std::string path = dir.path() + "/cache";
  std::vector<pid_t> children;
  for (int child = 0; child < 8; ++child) {
    const pid_t pid = fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      SharedNodeCache cache(path, "/store");
      for (int taken = child; taken <= 4000; taken += 8) cache.learn("k", KnownWindow{1000, taken});
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  SharedNodeCache cache(path, "/store");
  BOOST_TEST(cache.recall("k", 1000).value_or(-1) == 4000);
}

// With 16 entries, 200 keys share them: each key recalls its own facts and
// policies, or nothing; never another key's (a policy of another key could
// admit what this key's would refuse).
// The first requests after a boot open a cache that does not exist yet, all
// at once: none may see the file before it has its full size (a mapping
// past the end of a file is a SIGBUS at the first touch).
BOOST_AUTO_TEST_CASE(processes_that_create_the_file_at_once_all_get_a_cache) {
  TempDir dir;
  constexpr int kRounds = 20;
  constexpr int kProcesses = 12;
  int failures = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir.path() + "/cache-" + std::to_string(round);
    int start[2];
    BOOST_REQUIRE(pipe(start) == 0);
    std::vector<pid_t> pids;
    for (int i = 0; i < kProcesses; ++i) {
      const pid_t pid = fork();
      BOOST_REQUIRE(pid >= 0);
      if (pid == 0) {
        close(start[1]);
        char go;
        if (read(start[0], &go, 1) < 0) _exit(2);  // blocks until the parent closes the pipe
        try {
          SharedNodeCache cache(path, "scope");
          cache.learn("k", KnownWindow{1, 1});
          _exit(cache.recall("k", 1).value_or(0) >= 1 ? 0 : 3);
        } catch (const NodeCacheError&) {
          _exit(4);
        }
      }
      pids.push_back(pid);
    }
    close(start[0]);
    close(start[1]);
    for (const pid_t pid : pids) {
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
    }
  }
  BOOST_TEST(failures == 0);
}

BOOST_AUTO_TEST_CASE(keys_sharing_an_entry_never_see_each_others_facts) {
  TempDir dir;
  SharedNodeCache cache(dir.path() + "/cache", "/store", 4);
  auto policyOf = [](int i) {
    return i % 3 == 0 ? KeyPolicy{KeyPolicy::Kind::kUnlimited, 0}
                      : KeyPolicy{KeyPolicy::Kind::kLimit, 1 + i};
  };
  int own_facts = 0, own_policies = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::string key = "key" + std::to_string(i);
      cache.learn(key, KnownWindow{1000, 1 + i});
      cache.learnPolicy(key, 1000, policyOf(i));
    }
    for (int i = 0; i < 200; ++i) {
      const std::string key = "key" + std::to_string(i);
      if (const auto taken = cache.recall(key, 1000)) {
        BOOST_TEST(*taken == 1 + i, key);
        ++own_facts;
      }
      if (const auto policy = cache.recallPolicy(key, 1000)) {
        BOOST_TEST((policy->has_value() && **policy == policyOf(i)), key);
        ++own_policies;
      }
    }
  }
  BOOST_TEST(own_facts > 0);  // the last writers of each entry keep theirs
  BOOST_TEST(own_policies > 0);
}

BOOST_AUTO_TEST_CASE(a_file_of_another_size_or_kind_is_refused) {
  TempDir dir;
  { SharedNodeCache small(dir.path() + "/cache", "/store", 4); }
  BOOST_CHECK_THROW(SharedNodeCache(dir.path() + "/cache", "/store", 5), NodeCacheError);
  BOOST_CHECK_NO_THROW(SharedNodeCache(dir.path() + "/cache", "/store", 4));
  std::ofstream(dir.path() + "/other") << std::string(1 << 20, 'x');  // not ours
  BOOST_REQUIRE(chmod((dir.path() + "/other").c_str(), 0600) == 0);
  BOOST_CHECK_THROW(SharedNodeCache(dir.path() + "/other", "/store", 4), NodeCacheError);
}

// A file-size limit (RLIMIT_FSIZE) makes the cache unusable, not the
// process dead: without care, growing the file raises SIGXFSZ.
BOOST_AUTO_TEST_CASE(a_file_size_limit_is_an_error_not_a_signal) {
  TempDir dir;
  const pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    rlimit limit{1 << 20, 1 << 20};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
    try {
      SharedNodeCache cache(dir.path() + "/cache", "/store");
      _exit(1);  // a 1 MiB limit cannot hold the tables
    } catch (const NodeCacheError& e) {
      _exit(std::string(e.what()).find("fallocate") != std::string::npos ? 0 : 2);
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
}

// Anyone who can write the file can make the node refuse keys: it must be
// this user's own regular file, writable by no one else.
BOOST_AUTO_TEST_CASE(refuses_a_file_others_could_write) {
  TempDir dir;
  const std::string path = dir.path() + "/cache";
  std::ofstream(path) << "";
  BOOST_REQUIRE(chmod(path.c_str(), 0666) == 0);
  BOOST_CHECK_THROW(SharedNodeCache(path, "/store"), NodeCacheError);
  BOOST_REQUIRE(chmod(path.c_str(), 0600) == 0);
  BOOST_CHECK_NO_THROW(SharedNodeCache(path, "/store"));

  std::filesystem::create_symlink(path, dir.path() + "/link");
  BOOST_CHECK_THROW(SharedNodeCache(dir.path() + "/link", "/store"), NodeCacheError);
  std::filesystem::create_directory(dir.path() + "/directory");
  BOOST_CHECK_THROW(SharedNodeCache(dir.path() + "/directory", "/store"), NodeCacheError);
  BOOST_CHECK_THROW(SharedNodeCache(dir.path() + "/missing/cache", "/store"), NodeCacheError);
  if (geteuid() == 0) {
    BOOST_REQUIRE(chown(path.c_str(), 65534, 65534) == 0);
    try {
      SharedNodeCache cache(path, "/store");
      BOOST_ERROR("a file of another user's was used");
    } catch (const NodeCacheError& e) {
      BOOST_TEST(std::string(e.what()).find("belongs to uid 65534") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
