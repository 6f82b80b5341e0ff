/* The process plugin's eBPF side: who owns each socket, told to the plugin
 * at the moment a socket gets its addresses and before its first packet
 * leaves. Only cgroup socket hooks and a raw tracepoint: no kprobes.
 *
 *   connect4/6      the owner (pid, thread name, uid, cgroup) into the
 *                   socket's storage; its next packet announces its 5-tuple
 *   post_bind4/6    the owner, and the bound address: packets to a listener
 *   sendmsg4/6      the owner of an unconnected UDP socket
 *   recvmsg4/6      the owner and bound address of a socket first seen
 *                   receiving (one that existed before the plugin started)
 *   cgroup_skb egress  a socket with an owner announces each new 5-tuple
 *                   it sends (the SYN, a datagram to a new address): the
 *                   event is in the ring before the packet reaches a
 *                   capture socket
 *   inet_sock_set_state (raw tracepoint)  a TCP socket reaching CLOSE
 *   sock_release    any other socket with an owner being closed
 *
 * Socket storage is per socket and freed with it (BPF_F_CLONE: an accepted
 * connection inherits its listener's owner). Everything leaves through one
 * ring buffer; a full ring loses the event and counts it. */
#ifdef PCAPML_HAVE_VMLINUX_H
#include "vmlinux.h"
#else
#include "core_types.h"
#endif
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "owner_event.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_CLOSE 7
#define TCP_LISTEN 10

/* Set before loading: only sockets of this network namespace are reported. */
const volatile __u64 target_netns = 0;

/* Read by the plugin through the skeleton's mapped .bss. */
__u64 events_lost = 0;
__u64 events_sent = 0;

struct sock_state {
  struct pcapml_owner owner;
  struct pcapml_tuple last; /* the 5-tuple last announced */
  __u64 netns;
  __u64 time_ns; /* 0 until an owner is recorded */
};

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
  __type(key, int);
  __type(value, struct sock_state);
} sockets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20); /* resized by the plugin before loading */
} events SEC(".maps");

static __always_inline void emit(__u32 kind, __u64 cookie, __u64 netns, const struct pcapml_tuple *t,
                                 const struct pcapml_owner *o) {
  struct pcapml_owner_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&events_lost, 1);
    return;
  }
  e->kind = kind;
  e->pad = 0;
  e->time_ns = bpf_ktime_get_boot_ns();
  e->cookie = cookie;
  e->netns = netns;
  __builtin_memcpy(&e->tuple, t, sizeof(*t));
  if (o) __builtin_memcpy(&e->owner, o, sizeof(*o));
  else __builtin_memset(&e->owner, 0, sizeof(e->owner));
  /* No wakeup: the plugin reads the ring as packets come, it never waits
   * on it, and a wakeup per event costs an interrupt (microseconds). */
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  __sync_fetch_and_add(&events_sent, 1);
}

static __always_inline void fill_owner(struct pcapml_owner *o) {
  __u64 id = bpf_get_current_pid_tgid(), ug = bpf_get_current_uid_gid();
  o->pid = id >> 32;
  o->tid = (__u32)id;
  o->uid = (__u32)ug;
  o->gid = ug >> 32;
  o->cgroup_id = bpf_get_current_cgroup_id();
  bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* The socket's state with the calling task as its owner: always (connect,
 * bind: the moment the socket gets its addresses), or only when it has
 * none yet (send, receive). *fresh says it had none. */
static __always_inline struct sock_state *own(struct bpf_sock *sk, __u64 netns, int always, int *fresh) {
  struct sock_state *s = bpf_sk_storage_get(&sockets, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (!s) return 0;
  *fresh = s->time_ns == 0;
  if (always || *fresh) {
    fill_owner(&s->owner);
    s->netns = netns;
    s->time_ns = bpf_ktime_get_boot_ns();
    __builtin_memset(&s->last, 0, sizeof(s->last)); /* the next packet announces its 5-tuple again */
  }
  return s;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4, as on the wire. */
static __always_inline void unmap(struct pcapml_tuple *t) {
  __u32 w[3];
  __builtin_memcpy(w, t->laddr, 12);
  int l_mapped = w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
  __builtin_memcpy(w, t->raddr, 12);
  int r_mapped = w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
  int r_zero = w[0] == 0 && w[1] == 0 && w[2] == 0;
  if (t->ip_version != 6 || !l_mapped || !(r_mapped || r_zero)) return;
  t->ip_version = 4;
  __builtin_memcpy(t->laddr, t->laddr + 12, 4);
  __builtin_memset(t->laddr + 4, 0, 12);
  __builtin_memcpy(t->raddr, t->raddr + 12, 4);
  __builtin_memset(t->raddr + 4, 0, 12);
}

/* The bound address of a socket (post_bind, recvmsg). A post_bind4 program
 * may not read the IPv6 fields nor post_bind6 the IPv4 ones: `only` says
 * which family the hook is for (0: read by the socket's family). */
static __always_inline int bound_tuple(struct bpf_sock *sk, __u32 only, struct pcapml_tuple *t) {
  __u32 protocol = sk->protocol, family = only ? only : sk->family;
  if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) return 0;
  t->protocol = protocol;
  t->lport = sk->src_port;
  if (family == AF_INET) {
    t->ip_version = 4;
    __u32 a = sk->src_ip4;
    __builtin_memcpy(t->laddr, &a, 4);
  } else if (family == AF_INET6) {
    t->ip_version = 6;
    __u32 a[4] = {sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2], sk->src_ip6[3]};
    __builtin_memcpy(t->laddr, a, 16);
    unmap(t);
  } else {
    return 0;
  }
  return t->lport != 0;
}

static __always_inline int addr_hook(struct bpf_sock_addr *ctx, int always) {
  struct bpf_sock *sk = ctx->sk;
  if (!sk) return 1;
  __u64 netns = bpf_get_netns_cookie(ctx);
  if (netns != target_netns) return 1;
  int fresh = 0;
  own(sk, netns, always, &fresh);
  return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx) { return addr_hook(ctx, 1); }

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx) { return addr_hook(ctx, 1); }

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx) { return addr_hook(ctx, 0); }

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx) { return addr_hook(ctx, 0); }

static __always_inline int recv_hook(struct bpf_sock_addr *ctx) {
  struct bpf_sock *sk = ctx->sk;
  if (!sk) return 1;
  __u64 netns = bpf_get_netns_cookie(ctx);
  if (netns != target_netns) return 1;
  int fresh = 0;
  struct sock_state *s = own(sk, netns, 0, &fresh);
  struct pcapml_tuple t = {};
  if (s && fresh && bound_tuple(sk, 0, &t)) emit(PCAPML_EV_BOUND, bpf_get_socket_cookie(ctx), netns, &t, &s->owner);
  return 1;
}

SEC("cgroup/recvmsg4")
int recvmsg4(struct bpf_sock_addr *ctx) { return recv_hook(ctx); }

SEC("cgroup/recvmsg6")
int recvmsg6(struct bpf_sock_addr *ctx) { return recv_hook(ctx); }

static __always_inline int bind_hook(struct bpf_sock *sk, __u32 family) {
  __u64 netns = bpf_get_netns_cookie(sk);
  if (netns != target_netns) return 1;
  struct pcapml_tuple t = {};
  if (!bound_tuple(sk, family, &t)) return 1;
  int fresh = 0;
  struct sock_state *s = own(sk, netns, 1, &fresh);
  if (s) emit(PCAPML_EV_BOUND, bpf_get_socket_cookie(sk), netns, &t, &s->owner);
  return 1;
}

SEC("cgroup/post_bind4")
int post_bind4(struct bpf_sock *sk) { return bind_hook(sk, AF_INET); }

SEC("cgroup/post_bind6")
int post_bind6(struct bpf_sock *sk) { return bind_hook(sk, AF_INET6); }

/* The packet's own 5-tuple: what a capture of it will show. */
static __always_inline int packet_tuple(struct __sk_buff *skb, struct pcapml_tuple *t) {
  __u32 l4;
  if (skb->protocol == bpf_htons(ETH_P_IP)) {
    __u8 h[20];
    if (bpf_skb_load_bytes(skb, 0, h, sizeof(h))) return 0;
    if ((h[6] & 0x1f) || h[7]) return 0; /* a later fragment: no ports */
    t->ip_version = 4;
    t->protocol = h[9];
    __builtin_memcpy(t->laddr, h + 12, 4);
    __builtin_memcpy(t->raddr, h + 16, 4);
    l4 = (h[0] & 0xf) * 4;
  } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
    __u8 h[40];
    if (bpf_skb_load_bytes(skb, 0, h, sizeof(h))) return 0;
    t->ip_version = 6;
    t->protocol = h[6]; /* locally sent TCP/UDP carries no extension headers */
    __builtin_memcpy(t->laddr, h + 8, 16);
    __builtin_memcpy(t->raddr, h + 24, 16);
    l4 = 40;
  } else {
    return 0;
  }
  if (t->protocol != IPPROTO_TCP && t->protocol != IPPROTO_UDP) return 0;
  __u16 ports[2];
  if (bpf_skb_load_bytes(skb, l4 & 0x3f, ports, sizeof(ports))) return 0;
  t->lport = bpf_ntohs(ports[0]);
  t->rport = bpf_ntohs(ports[1]);
  return 1;
}

static __always_inline int same_tuple(const struct pcapml_tuple *a, const struct pcapml_tuple *b) {
  const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
  return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb) {
  struct bpf_sock *sk = skb->sk;
  if (!sk) return 1;
  sk = bpf_sk_fullsock(sk);
  if (!sk) return 1;
  struct sock_state *s = bpf_sk_storage_get(&sockets, sk, 0, 0);
  if (!s || s->time_ns == 0) return 1;
  struct pcapml_tuple t = {};
  if (!packet_tuple(skb, &t) || same_tuple(&t, &s->last)) return 1;
  __builtin_memcpy(&s->last, &t, sizeof(t));
  emit(PCAPML_EV_CONNECTED, bpf_get_socket_cookie(skb), s->netns, &t, &s->owner);
  return 1;
}

SEC("raw_tp/inet_sock_set_state")
int set_state(struct bpf_raw_tracepoint_args *ctx) {
  struct sock *sk = (struct sock *)ctx->args[0];
  int oldstate = (int)ctx->args[1], newstate = (int)ctx->args[2];
  if (newstate != TCP_CLOSE || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  __u64 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
  if (netns != target_netns) return 0;
  struct pcapml_tuple t = {};
  t.protocol = IPPROTO_TCP;
  t.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  int listener = oldstate == TCP_LISTEN;
  if (!listener) t.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (family == AF_INET) {
    t.ip_version = 4;
    __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr), r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(t.laddr, &l, 4);
    if (!listener) __builtin_memcpy(t.raddr, &r, 4);
  } else if (family == AF_INET6) {
    t.ip_version = 6;
    BPF_CORE_READ_INTO(&t.laddr, sk, __sk_common.skc_v6_rcv_saddr);
    if (!listener) BPF_CORE_READ_INTO(&t.raddr, sk, __sk_common.skc_v6_daddr);
    unmap(&t);
  } else {
    return 0;
  }
  __u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
  emit(PCAPML_EV_CLOSED, cookie, netns, &t, 0);
  return 0;
}

SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *sk) {
  struct sock_state *s = bpf_sk_storage_get(&sockets, sk, 0, 0);
  if (!s || s->time_ns == 0) return 1;
  /* A TCP socket still connected or listening reaches CLOSE later, in the
   * tracepoint, which knows its 5-tuple. */
  if (sk->protocol == IPPROTO_TCP && sk->state != TCP_CLOSE) return 1;
  struct pcapml_tuple t = {};
  emit(PCAPML_EV_RELEASED, bpf_get_socket_cookie(sk), s->netns, &t, 0);
  return 1;
}
