// libnftables (Debian's libnftables-dev) for Swift: the nft command language through its library,
// for Viaduct's own `table inet viaduct` only.
#pragma once
#include <nftables/libnftables.h>
