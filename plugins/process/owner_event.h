/* What the process plugin's eBPF programs (owners.bpf.c) tell the plugin,
 * through a BPF ring buffer: C shared by both sides. The includer provides
 * __u8..__u64 (vmlinux.h or <linux/types.h>).
 *
 * Ports are in host order; IPv4 addresses fill the first 4 bytes of an
 * address (the rest zero); an IPv4-mapped IPv6 address is written as IPv4,
 * the way its packets look on the wire. Times are CLOCK_BOOTTIME ns. */
#ifndef PCAPML_PROCESS_OWNER_EVENT_H
#define PCAPML_PROCESS_OWNER_EVENT_H

enum pcapml_owner_event_kind {
  /* A socket sent a packet of a 5-tuple it had not sent before (its first
   * packet: the SYN, the first datagram to an address). Local = source. */
  PCAPML_EV_CONNECTED = 1,
  /* A socket was bound to a local address and port (bind(), or seen
   * receiving on one): remote address and port are zero. */
  PCAPML_EV_BOUND = 2,
  /* A TCP socket reached CLOSE: its 5-tuple (a listener: its bound
   * address) ends; the plugin keeps it for its grace period. */
  PCAPML_EV_CLOSED = 3,
  /* A socket was released (close()) in a state the tracepoint does not
   * report: every entry with its cookie ends. */
  PCAPML_EV_RELEASED = 4,
};

struct pcapml_tuple {
  __u8 ip_version; /* 4 or 6 */
  __u8 protocol;   /* 6 TCP, 17 UDP */
  __u16 lport, rport;
  __u16 pad;
  __u8 laddr[16], raddr[16];
};

struct pcapml_owner {
  __u32 pid; /* the process (thread group) id */
  __u32 tid; /* the thread that connected or bound */
  __u32 uid, gid;
  __u64 cgroup_id; /* cgroup v2 id: the inode number of its directory */
  char comm[16];   /* the thread's name then */
};

struct pcapml_owner_event {
  __u32 kind;
  __u32 pad;
  __u64 time_ns;
  __u64 cookie; /* the socket cookie (SO_COOKIE, sock_diag's idiag_cookie) */
  __u64 netns;  /* the socket's network namespace cookie */
  struct pcapml_tuple tuple;
  struct pcapml_owner owner;
};

#endif
