// Waiting for a state instead of sleeping for it: WaitUntil polls a
// predicate until it holds or a deadline passes, so a test neither sleeps
// longer than it must nor hangs when the state never comes.
//
// Used wherever a test waits on another thread or process (a server
// starting, a file appearing). Time a test controls is a FakeClock
// (tests/support/fake_clock.h), not a wait. Header-only.
//
// Thread safety: `ready` is called on the caller's thread only.
#pragma once

#include <chrono>
#include <thread>

namespace vigil::testing {

// Calls `ready()` every `poll` until it returns true (then true) or
// `timeout` has passed (then false, after one last call).
template <typename Ready>
bool WaitUntil(Ready&& ready, std::chrono::milliseconds timeout = std::chrono::seconds(10),
               std::chrono::milliseconds poll = std::chrono::milliseconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return ready();
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace vigil::testing
