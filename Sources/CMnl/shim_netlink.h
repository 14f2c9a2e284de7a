// Netlink constants Swift cannot import directly. No logic. (TUN and setns live in CSystem,
// behind the System target.)
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/netlink.h>

static const int viaduct_sol_netlink = SOL_NETLINK;
static const int viaduct_netlink_route = NETLINK_ROUTE;
static const int viaduct_netlink_xfrm = NETLINK_XFRM;
static const int viaduct_netlink_cap_ack = NETLINK_CAP_ACK;
static const int viaduct_netlink_ext_ack = NETLINK_EXT_ACK;
static const int viaduct_netlink_add_membership = NETLINK_ADD_MEMBERSHIP;
