// Netlink, TUN and xfrm constants and helpers Swift cannot import directly (function-like macros,
// variadic ioctl). No logic beyond one syscall sequence each.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/if_tun.h>

static const int VD_SOL_NETLINK = SOL_NETLINK;
static const int VD_NETLINK_ROUTE = NETLINK_ROUTE;
static const int VD_NETLINK_XFRM = NETLINK_XFRM;
static const int VD_NETLINK_CAP_ACK = NETLINK_CAP_ACK;
static const int VD_NETLINK_EXT_ACK = NETLINK_EXT_ACK;
static const int VD_NETLINK_ADD_MEMBERSHIP = NETLINK_ADD_MEMBERSHIP;

/// Creates (or re-attaches to) the TUN device `name` without packet info and sets it persistent
/// (`persist` != 0) so it outlives the descriptor, which is closed before returning.
/// Returns 0 or a negative errno.
static inline int vd_tun_create_persistent(const char *name, int persist) {
    struct ifreq ifr;
    int fd, err = 0;
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) err = -errno;
    else if (ioctl(fd, TUNSETPERSIST, persist) < 0) err = -errno;
    close(fd);
    return err;
}

#include <sys/syscall.h>

/// setns(fd, CLONE_NEWNET) for the calling thread (glibc declares setns only under _GNU_SOURCE).
/// Returns 0 or a negative errno.
static inline int vd_setns_net(int fd) {
    long rc = syscall(SYS_setns, fd, 0x40000000 /* CLONE_NEWNET */);
    return rc == 0 ? 0 : -errno;
}
