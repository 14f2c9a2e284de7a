// ThreadSanitizer support for Swift's `Synchronization.Mutex` on Linux. Compiled to nothing
// unless this target is built with `-fsanitize=thread` (`swift build --sanitize=thread`,
// Scripts/sanitize thread); never in the daemon as shipped.
//
// Why: `Mutex.withLock` inlines a fast path into our code (a compare-and-swap on the lock word,
// acquiring / releasing, which TSan sees), but when the lock is contended it calls `_lockSlow` /
// `_unlockSlow` in libswiftSynchronization.so: spinning and FUTEX_LOCK_PI / FUTEX_UNLOCK_PI
// syscalls in a library that is not instrumented. TSan then sees no happens-before edge between
// the unlocking and the locking thread and reports every access made under the lock as a race
// ("Swift access race" inside `withLock`, on data that only the lock protects). Two threads
// incrementing a `Mutex<Int>` reproduce it, with the exact total at the end.
//
// What: the three slow-path entry points are defined here under their Swift names; the link
// binds our code's calls to these, and each calls the library's own function (dlsym RTLD_NEXT)
// and tells TSan what it did: `__tsan_acquire(lock word)` once the lock is held, and
// `__tsan_release(lock word)` before it is handed on. The lock word is the address the inlined
// fast path's atomics use, so fast and slow paths meet on one TSan sync object and every
// lock/unlock pair is a happens-before edge, exactly as for a pthread mutex. No report is
// suppressed: races on data outside the lock are still found. If a future toolchain renames
// these functions, this file becomes dead code and the reports come back (SystemTests'
// contended-Mutex test fails under TSan), which is the signal to update the names below.
//
// The ABI: `_MutexHandle` is address-only, so `self` is the lock word's address in the Swift
// context register (swiftself, r13 on x86-64; clang's `swift_context`), the thread ID in the
// first argument register; see `_lockSlow` in the library's disassembly.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sanitizer/tsan_interface.h>

#define VIADUCT_LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define VIADUCT_TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define VIADUCT_UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

#define SWIFT_SELF __attribute__((swift_context))
#define SWIFT_CC __attribute__((swiftcall))

typedef SWIFT_CC void (*viaduct_lock_slow_fn)(uint32_t, SWIFT_SELF void *);
typedef SWIFT_CC bool (*viaduct_try_lock_slow_fn)(SWIFT_SELF void *);
typedef SWIFT_CC void (*viaduct_unlock_slow_fn)(SWIFT_SELF void *);

static viaduct_lock_slow_fn library_lock_slow;
static viaduct_try_lock_slow_fn library_try_lock_slow;
static viaduct_unlock_slow_fn library_unlock_slow;
static pthread_once_t library_resolved = PTHREAD_ONCE_INIT;

static void resolve_library(void) {
    library_lock_slow = (viaduct_lock_slow_fn)dlsym(RTLD_NEXT, VIADUCT_LOCK_SLOW);
    library_try_lock_slow = (viaduct_try_lock_slow_fn)dlsym(RTLD_NEXT, VIADUCT_TRY_LOCK_SLOW);
    library_unlock_slow = (viaduct_unlock_slow_fn)dlsym(RTLD_NEXT, VIADUCT_UNLOCK_SLOW);
    // Linked statically against the Swift runtime there is no "next" definition (and the link
    // would have failed on duplicates first): a sanitizer build links it dynamically.
    if (!library_lock_slow || !library_try_lock_slow || !library_unlock_slow) abort();
}

SWIFT_CC void viaduct_tsan_lock_slow(uint32_t self_id, SWIFT_SELF void *word) __asm__(VIADUCT_LOCK_SLOW);
SWIFT_CC void viaduct_tsan_lock_slow(uint32_t self_id, SWIFT_SELF void *word) {
    pthread_once(&library_resolved, resolve_library);
    library_lock_slow(self_id, word);
    __tsan_acquire(word);
}

SWIFT_CC bool viaduct_tsan_try_lock_slow(SWIFT_SELF void *word) __asm__(VIADUCT_TRY_LOCK_SLOW);
SWIFT_CC bool viaduct_tsan_try_lock_slow(SWIFT_SELF void *word) {
    pthread_once(&library_resolved, resolve_library);
    bool locked = library_try_lock_slow(word);
    if (locked) __tsan_acquire(word);
    return locked;
}

SWIFT_CC void viaduct_tsan_unlock_slow(SWIFT_SELF void *word) __asm__(VIADUCT_UNLOCK_SLOW);
SWIFT_CC void viaduct_tsan_unlock_slow(SWIFT_SELF void *word) {
    pthread_once(&library_resolved, resolve_library);
    __tsan_release(word);
    library_unlock_slow(word);
}
#endif
#endif
