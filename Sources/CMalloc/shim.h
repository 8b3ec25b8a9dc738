#ifndef PROBITY_CMALLOC_SHIM_H
#define PROBITY_CMALLOC_SHIM_H

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

/// Limits glibc's malloc to `count` arenas (M_ARENA_MAX is a macro of malloc.h, which Swift's Glibc module
/// does not include). Returns 1 on success, 0 otherwise (and on systems without glibc, where it does nothing).
static inline int probity_limit_malloc_arenas(int count) {
#if defined(M_ARENA_MAX)
    return mallopt(M_ARENA_MAX, count);
#else
    (void)count;
    return 0;
#endif
}

#endif
