// Waiting for a state instead of sleeping for it: WaitFor polls a predicate
// until it holds or a deadline passes, so a test neither sleeps longer than
// it must nor hangs when the state never comes.
//
// Used wherever a test waits on another thread or process: a server
// starting, a file appearing, a child process printing its address (the
// process tests reach it through tests/integration/test_util.h). Time a
// test controls is a FakeClock (tests/support/fake_clock.h), not a wait.
// Header-only.
//
// Thread safety: `done` is called on the caller's thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace vigil::testing {

// Calls `done()` every `every` until it returns true: true then, false once
// `timeout` has passed (`done` is called at least once, and once more at
// the deadline). The default pace suits a predicate that runs a process;
// one that reads memory another thread writes may poll faster.
template <typename Done>
bool WaitFor(Done&& done, std::chrono::milliseconds timeout = std::chrono::seconds(30),
             std::chrono::milliseconds every = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(every, left));
  }
  return true;
}

}  // namespace vigil::testing
