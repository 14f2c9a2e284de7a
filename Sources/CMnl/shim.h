// libmnl for Swift, plus the netlink/TUN constants of shim_netlink.h.
#pragma once
#include <libmnl/libmnl.h>
#include "shim_netlink.h"
