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

static const int VD_SOL_NETLINK = SOL_NETLINK;
static const int VD_NETLINK_ROUTE = NETLINK_ROUTE;
static const int VD_NETLINK_XFRM = NETLINK_XFRM;
static const int VD_NETLINK_CAP_ACK = NETLINK_CAP_ACK;
static const int VD_NETLINK_EXT_ACK = NETLINK_EXT_ACK;
static const int VD_NETLINK_ADD_MEMBERSHIP = NETLINK_ADD_MEMBERSHIP;
