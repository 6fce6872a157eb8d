// Clang's thread-safety annotations as macros, so that the compiler checks
// which mutex guards which field (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html)
// instead of a comment claiming it. The same set as leveldb's
// port/thread_annotations.h and absl's base/thread_annotations.h, without a
// prefix. Under GCC (the usual build) they expand to nothing; a clang build
// turns on -Wthread-safety (CMakeLists.txt), and scripts/check-thread-safety,
// which scripts/test runs, builds the annotated libraries with clang and
// -Werror (docs/development.md, "Thread-safety annotations").
//
// It lives in base/ (below storage/ and services/, depending on nothing) so
// that storage/ and services/ both use it: storage/ may not include services/.
//
//   class Queue {
//    public:
//     void Push(int v) EXCLUDES(mu_);
//    private:
//     void PushLocked(int v) REQUIRES(mu_);
//     Mutex mu_;                              // base/mutex.h
//     std::deque<int> items_ GUARDED_BY(mu_);
//   };
//
// Data:
//   GUARDED_BY(mu)         the field is read and written only with mu held
//                          (written: held exclusively).
//   PT_GUARDED_BY(mu)      the same for what a pointer field points to.
// Functions:
//   REQUIRES(mu)           callers hold mu (exclusively); the usual mark of
//                          a private helper called with the lock held.
//   REQUIRES_SHARED(mu)    callers hold mu at least shared.
//   EXCLUDES(mu)           callers do not hold mu (the function takes it).
//   ACQUIRE(mu) / RELEASE(mu), ACQUIRE_SHARED / RELEASE_SHARED,
//   TRY_ACQUIRE(ok, mu)    the function locks / unlocks mu (mutex types and
//                          their scoped locks; with no argument: `this`).
//   RETURN_CAPABILITY(mu)  the function returns a reference to mu.
//   NO_THREAD_SAFETY_ANALYSIS  the body is not checked: only for the
//                          wrappers in mutex.h, never to silence a finding.
// Types:
//   CAPABILITY("mutex")    the class is a lock; SCOPED_CAPABILITY: an RAII
//                          holder of one.
//
// Thread safety: macros only.
#pragma once

#if defined(__clang__)
#define THREAD_ANNOTATION_ATTRIBUTE__(x) __attribute__((x))
#else
#define THREAD_ANNOTATION_ATTRIBUTE__(x)  // GCC has no thread-safety analysis
#endif

#define CAPABILITY(x) THREAD_ANNOTATION_ATTRIBUTE__(capability(x))
#define SCOPED_CAPABILITY THREAD_ANNOTATION_ATTRIBUTE__(scoped_lockable)

#define GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE__(guarded_by(x))
#define PT_GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE__(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) THREAD_ANNOTATION_ATTRIBUTE__(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) THREAD_ANNOTATION_ATTRIBUTE__(acquired_after(__VA_ARGS__))

#define REQUIRES(...) THREAD_ANNOTATION_ATTRIBUTE__(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) THREAD_ANNOTATION_ATTRIBUTE__(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) THREAD_ANNOTATION_ATTRIBUTE__(locks_excluded(__VA_ARGS__))

#define ACQUIRE(...) THREAD_ANNOTATION_ATTRIBUTE__(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) THREAD_ANNOTATION_ATTRIBUTE__(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) THREAD_ANNOTATION_ATTRIBUTE__(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) THREAD_ANNOTATION_ATTRIBUTE__(release_shared_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) THREAD_ANNOTATION_ATTRIBUTE__(try_acquire_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) THREAD_ANNOTATION_ATTRIBUTE__(assert_capability(x))
#define RETURN_CAPABILITY(x) THREAD_ANNOTATION_ATTRIBUTE__(lock_returned(x))

#define NO_THREAD_SAFETY_ANALYSIS THREAD_ANNOTATION_ATTRIBUTE__(no_thread_safety_analysis)
