/* The kernel types owners.bpf.c reads, for a build machine without
 * /sys/kernel/btf/vmlinux: only the fields used, marked for CO-RE, so libbpf
 * finds each by name in the running kernel's BTF at load time (nested
 * anonymous unions there need not be repeated here). The UAPI types
 * (struct bpf_sock, __sk_buff, ...) come from linux-libc-dev. */
#ifndef PCAPML_PROCESS_CORE_TYPES_H
#define PCAPML_PROCESS_CORE_TYPES_H

#include <linux/bpf.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct net {
  u64 net_cookie;
};

typedef struct {
  struct net* net;
} possible_net_t;

struct in6_addr {
  u8 s6_addr[16];
};

typedef struct {
  s64 counter;
} atomic64_t;

struct sock_common {
  __be32 skc_daddr;
  __be32 skc_rcv_saddr;
  __be16 skc_dport;
  __u16 skc_num;
  unsigned short skc_family;
  possible_net_t skc_net;
  struct in6_addr skc_v6_daddr;
  struct in6_addr skc_v6_rcv_saddr;
  atomic64_t skc_cookie;
};

struct sock {
  struct sock_common __sk_common;
  u16 sk_protocol;
};

#pragma clang attribute pop

#endif
