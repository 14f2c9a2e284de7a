// Linux macros, constants and syscalls Swift cannot import or call directly, behind the System
// target. No logic: each function is the macro it is named after, so Swift code never does pointer
// arithmetic on control messages.
#pragma once

// glibc's <netinet/in.h> must come before the uapi headers so linux/libc-compat.h does not
// redefine in6_addr and friends.
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <linux/xfrm.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <spawn.h>
#include <sys/inotify.h>

// IP_XFRM_POLICY / IPV6_XFRM_POLICY (linux/in.h, linux/in6.h): per-socket IPsec policies.
#define VIADUCT_IP_XFRM_POLICY 17
#define VIADUCT_IPV6_XFRM_POLICY 35
// UDP_ENCAP / UDP_ENCAP_ESPINUDP (linux/udp.h): turns a UDP socket into the kernel's ESP-in-UDP
// decapsulator (RFC 3948). Exposed for the kernel data plane; the IKE daemon does not set it.
#define VIADUCT_UDP_ENCAP 100
#define VIADUCT_UDP_ENCAP_ESPINUDP 2

static const int viaduct_ip_xfrm_policy = VIADUCT_IP_XFRM_POLICY;
static const int viaduct_ipv6_xfrm_policy = VIADUCT_IPV6_XFRM_POLICY;
static const int viaduct_udp_encap = VIADUCT_UDP_ENCAP;
static const int viaduct_udp_encap_espinudp = VIADUCT_UDP_ENCAP_ESPINUDP;

// struct in6_pktinfo (RFC 3542) is hidden behind _GNU_SOURCE in glibc; same layout.
struct viaduct_in6_pktinfo {
    struct in6_addr ipi6_addr;
    unsigned int ipi6_ifindex;
};

// CMSG_* (sys/socket.h) are macros over pointer arithmetic.
static inline struct cmsghdr *viaduct_cmsg_firsthdr(struct msghdr *m) { return CMSG_FIRSTHDR(m); }
static inline struct cmsghdr *viaduct_cmsg_nxthdr(struct msghdr *m, struct cmsghdr *c) { return CMSG_NXTHDR(m, c); }
static inline unsigned char *viaduct_cmsg_data(struct cmsghdr *c) { return CMSG_DATA(c); }
static inline size_t viaduct_cmsg_space(size_t len) { return CMSG_SPACE(len); }
static inline size_t viaduct_cmsg_len(size_t len) { return CMSG_LEN(len); }

// sigset_t manipulation is a set of macros on some libcs; keep it out of Swift.
static inline int viaduct_sigset_block(sigset_t *set, const int *signals, int count) {
    sigemptyset(set);
    for (int i = 0; i < count; i++) sigaddset(set, signals[i]);
    return pthread_sigmask(SIG_BLOCK, set, NULL);
}

// setns(2) into a network namespace (CLONE_NEWNET); glibc declares setns only with _GNU_SOURCE.
// Used by System.NetNamespace, the one way into a namespace.
static inline int viaduct_setns_net(int fd) { return (int)syscall(SYS_setns, fd, 0x40000000); }

// prctl(2) is variadic, which Swift cannot call: PR_SET_NAME names the calling thread (15 bytes
// and a NUL at most; what `top -H` and /proc/self/task/TID/comm show).
static inline int viaduct_set_thread_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

// posix_spawn: POSIX_SPAWN_SETSID and posix_spawn_file_actions_addclosefrom_np (glibc 2.34+) are
// declared only with _GNU_SOURCE, which this header cannot turn on after the includes above;
// shims.c defines it and forwards. The close-from action makes the child close every
// descriptor from `from` up once the earlier actions have set up its stdio: a child gets
// stdin, stdout and stderr and nothing else its parent happened to have open (glibc has no
// POSIX_SPAWN_CLOEXEC_DEFAULT).
static const short viaduct_posix_spawn_setsid = 0x80;
int viaduct_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

// inotify(7): the flags of inotify_init1 are enum members in glibc's header; plain ints here.
static const int viaduct_in_nonblock = IN_NONBLOCK;
static const int viaduct_in_cloexec = IN_CLOEXEC;
