// Most shims live in the header as static inline functions; this file gives SwiftPM a C
// translation unit to build the module from, and holds the few that need _GNU_SOURCE
// (which must come before any system header).
#define _GNU_SOURCE
#include <spawn.h>
#include "CSystem.h"

int viaduct_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
