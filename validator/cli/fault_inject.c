/*
 * Allocation failure injection for the test build (CMake option
 * MC_FAULT_INJECTION, on in the dev preset; never in release builds).
 *
 * The executable is linked with `-Wl,--wrap=SYM` for each function below, so
 * that every call the project's own code makes to it (the validator, the
 * capture reader, the reports, the CLI: not libc's, libpcap's or OpenSSL's
 * internal ones) comes here first. Under ASan the real function is still
 * ASan's, so leaks and misuse on the error paths are caught as usual.
 *
 *   MC_FAULT_FAIL=N    the Nth call (counting from 1, all threads together)
 *                      fails as the real function fails when out of
 *                      resources: NULL with errno ENOMEM, or EAGAIN from
 *                      pthread_create
 *   MC_FAULT_FAIL=N+   that call and every later one fails
 *   MC_FAULT_FAIL=0    nothing fails; only counted
 *
 * With MC_FAULT_FAIL set, a line on stderr at exit says how many calls
 * were made and which one failed, so a driver (tests/torture/torture.py)
 * first counts the calls of a run, then fails each in turn. Curl's torture
 * tests (CURL_MEMLIMIT with its debug allocator) work the same way; a
 * preloaded shim would not combine with ASan, which must own malloc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The wrapped functions, once: each gets its __real_ (ld's name for the
 * original) and its __wrap_ prototype. */
#define WRAPPED(X)                                                            \
    X(void *, malloc, (size_t n))                                             \
    X(void *, calloc, (size_t n, size_t size))                                \
    X(void *, realloc, (void *p, size_t n))                                   \
    X(void *, aligned_alloc, (size_t align, size_t n))                        \
    X(char *, strdup, (const char *s))                                        \
    X(char *, strndup, (const char *s, size_t n))                             \
    X(FILE *, open_memstream, (char **buf, size_t *len))                      \
    X(int, pthread_create, (pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg))

#define DECLARE(ret, name, params) \
    ret __real_##name params;      \
    ret __wrap_##name params;
WRAPPED(DECLARE)
#undef DECLARE

enum { UNREAD, OFF, ON };

static _Atomic int state = UNREAD;
static unsigned long fail_at;          /* 0: never */
static bool fail_after;                /* "N+": every call from fail_at on */
static _Atomic unsigned long calls;
static _Atomic unsigned long failed;   /* number of the first call failed, 0: none */
static const char *_Atomic failed_fn;
static void *_Atomic failed_caller;

static void report(void)
{
    unsigned long f = atomic_load(&failed);
    if (f) {
        /* the caller as an offset into its object, for addr2line -e OBJECT */
        Dl_info info;
        void *at = atomic_load(&failed_caller);
        uintptr_t off = (uintptr_t)at;
        const char *obj = "?";
        if (dladdr(at, &info) && info.dli_fbase) {
            off -= (uintptr_t)info.dli_fbase;
            obj = info.dli_fname;
        }
        fprintf(stderr, "mailconform: fault injection: %lu calls, call %lu (%s) failed, called from %s+0x%lx\n",
                atomic_load(&calls), f, atomic_load(&failed_fn), obj, (unsigned long)off);
    }
    else
        fprintf(stderr, "mailconform: fault injection: %lu calls, none failed\n", atomic_load(&calls));
}

/* Read once, by whichever thread calls first (the main thread: the workers
 * start later). getenv and atexit do not come back here. */
static void setup(void)
{
    const char *v = getenv("MC_FAULT_FAIL");
    char *end;
    if (!v || !*v) {
        atomic_store(&state, OFF);
        return;
    }
    fail_at = strtoul(v, &end, 10);
    fail_after = *end == '+';
    atexit(report);
    atomic_store(&state, ON);
}

/* True when this call is to fail. */
static bool fails(const char *fn, void *caller)
{
    int s = atomic_load_explicit(&state, memory_order_acquire);
    if (s == UNREAD) {
        setup();
        s = atomic_load(&state);
    }
    if (s == OFF)
        return false;
    unsigned long n = atomic_fetch_add(&calls, 1) + 1;
    if (!fail_at || n < fail_at || (n > fail_at && !fail_after))
        return false;
    unsigned long none = 0;
    if (atomic_compare_exchange_strong(&failed, &none, n)) {
        atomic_store(&failed_fn, fn);
        atomic_store(&failed_caller, caller);
    }
    return true;
}

#define FAIL_NULL(fn)                                   \
    if (fails(fn, __builtin_return_address(0))) {       \
        errno = ENOMEM;                                 \
        return NULL;                                    \
    }

void *__wrap_malloc(size_t n)
{
    FAIL_NULL("malloc");
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    FAIL_NULL("calloc");
    return __real_calloc(n, size);
}

/* realloc(p, 0) frees p: not an allocation, never failed (the caller
 * could not tell a failure from the free). */
void *__wrap_realloc(void *p, size_t n)
{
    if (n)
        FAIL_NULL("realloc");
    return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    FAIL_NULL("aligned_alloc");
    return __real_aligned_alloc(align, n);
}

char *__wrap_strdup(const char *s)
{
    FAIL_NULL("strdup");
    return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    FAIL_NULL("strndup");
    return __real_strndup(s, n);
}

FILE *__wrap_open_memstream(char **buf, size_t *len)
{
    FAIL_NULL("open_memstream");
    return __real_open_memstream(buf, len);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (fails("pthread_create", __builtin_return_address(0)))
        return EAGAIN;
    return __real_pthread_create(t, attr, fn, arg);
}
