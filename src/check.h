// CREBITO_ASSERT: an invariant check that stays on in release builds.
//
// A failed assertion means the code is wrong (a programmer error), never that the input or the
// environment is bad; those are handled and answered. It costs nanoseconds against a request that
// costs tens of microseconds, and stopping beats committing a wrong balance.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CREBITO_ASSERT(condition)                                                          \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "crebito: invariant broken at %s:%d: %s\n", __FILE__, __LINE__, \
                   #condition);                                                            \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)
