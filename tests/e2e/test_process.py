"""The process plugin end to end (root): the daemon with its eBPF programs in
a network namespace of its own, capturing its loopback and a veth pair to a
second namespace, while real programs run there, each in a cgroup of its
own: python3 -m http.server (on ::, so IPv4 reaches it IPv4-mapped), two
curls over IPv4 and one over IPv6, a UDP sender that uses sendto
without connect (and its receiver), a client that connects, sends and exits
within microseconds (C), a connection opened before the daemon started, and a
curl from the other namespace. Every packet of each connection, both
directions, SYN to FIN, must carry the owner the test started (pid, comm,
cgroup), and no other packet may carry it. Then `pcapml compare` of that
output against a port-rules labeling must report the confusion built here."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import BIN, copies_for_every_user, run, tshark
from daemon_util import Daemon, completed_files, free_port, metric, write_config

PLUGIN = os.path.join(os.path.dirname(BIN), "plugins", "process.so")

# Sets the calling thread's name (comm) like a program named so would have it.
SET_COMM = "import ctypes\nctypes.CDLL(None).prctl(15, {name!r}.encode(), 0, 0, 0)\n"

EARLY_CLIENT = SET_COMM.format(name="early-client") + """
import socket, sys
s = socket.create_connection(("127.0.0.1", 8000))
print(s.getsockname()[1], flush=True)
sys.stdin.readline()                      # the daemon runs now
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
while s.recv(65536):
    pass
s.close()
print("done", flush=True)
"""

# Connects, sends and exits: a few microseconds from connect() to exit.
SHORT_CLIENT = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8000)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&a, sizeof a)) return 1;
  static const char req[] = "GET / HTTP/1.0\r\n\r\n";
  send(s, req, sizeof req - 1, 0);
  socklen_t n = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &n);
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  _exit(0);
}
"""

UDP_RECEIVER = SET_COMM.format(name="udp-receiver") + """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 9999))
print("bound", flush=True)
for _ in range(5):
    data, peer = s.recvfrom(2048)
    s.sendto(b"re:" + data, peer)
"""

UDP_SENDER = SET_COMM.format(name="udp-sender") + """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"ping %d" % i, ("127.0.0.1", 9999))   # no connect()
    s.recvfrom(2048)
print(s.getsockname()[1], flush=True)
"""


# Listens on 127.0.0.1:7000 and holds argv[1] connections to itself open:
# a listener, argv[1] connecting and argv[1] accepted sockets of one owner.
HOLDER = SET_COMM.format(name="holder") + """
import socket, sys
n = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 7000))
srv.listen(128)
clients = [socket.create_connection(("127.0.0.1", 7000)) for _ in range(n)]
accepted = [srv.accept()[0] for _ in range(n)]
print("open", flush=True)
sys.stdin.readline()
for c in clients:
    c.sendall(b"x")
for a in accepted:
    a.recv(1)
print("sent", flush=True)
sys.stdin.readline()
"""

# Many short-lived UDP sockets, each sending one datagram: announcements
# faster than a small ring drained ten times a second holds.
BURST = """
import socket
for i in range(30000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("127.0.0.1", 9))
    s.close()
print("done", flush=True)
"""


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def cgroup2_root():
    for line in open("/proc/self/mountinfo"):
        pre, post = line.split(" - ")
        if post.split()[0] == "cgroup2" and pre.split()[3] == "/":
            return pre.split()[4]
    pytest.fail("no cgroup2 mount: the process plugin needs cgroup v2")


class Lab:
    """Namespaces A (the daemon and the programs) and B (a remote host) joined
    by a veth pair, and a cgroup per program under <cgroup2>/pcapml-test-<pid>."""

    def __init__(self, tmp_path):
        tag = os.getpid() % 100000
        self.a, self.b = f"pmpa{tag}", f"pmpb{tag}"
        self.a_addr, self.b_addr = "198.18.77.1", "198.18.77.2"
        self.veth_a = f"pmva{tag}"
        self.cg_root = cgroup2_root()
        self.cg = os.path.join(self.cg_root, f"pcapml-test-{tag}")
        self.procs = []
        self.tmp = tmp_path
        sh("ip", "netns", "add", self.a)
        sh("ip", "netns", "add", self.b)
        sh("ip", "link", "add", self.veth_a, "netns", self.a, "type", "veth", "peer", "name", "pmvb", "netns", self.b)
        for ns, dev, addr in [(self.a, self.veth_a, self.a_addr), (self.b, "pmvb", self.b_addr)]:
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        os.makedirs(self.cg, exist_ok=True)

    def cgroup_path(self, name):
        """The program's cgroup as the plugin writes it (from the hierarchy's root)."""
        return "/" + os.path.relpath(os.path.join(self.cg, name), self.cg_root)

    def start(self, name, ns, argv, **kw):
        """argv in namespace ns and in cgroup <name>; its pid is the Popen's (nsenter execs)."""
        d = os.path.join(self.cg, name)
        os.makedirs(d, exist_ok=True)

        def enter():
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

        p = subprocess.Popen(["nsenter", f"--net=/run/netns/{ns}", *argv], preexec_fn=enter, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for root, dirs, _ in os.walk(self.cg, topdown=False):
            for d in dirs:
                os.rmdir(os.path.join(root, d))
        os.rmdir(self.cg)


def daemon_config(tmp_path, lab, plugin_settings, sources, plugin=PLUGIN):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nid = "owner"\nplugin = "process"\n')
    top = f'[[plugin]]\nname = "process"\npath = "{plugin}"\n{plugin_settings}\n'
    return write_config(tmp_path / "daemon.toml", sources, [rules], tmp_path / "out", top=top)


def parse_comment(comment):
    """'<id>,<label>,k=v,...' -> (label, {k: v})."""
    if not comment:
        return None, {}
    parts = comment.split(",")
    return parts[1], dict(p.split("=", 1) for p in parts[2:])


def packets(path):
    """One dict per frame: transport, both ports, SYN/FIN flags, comment."""
    rows = tshark(path, "frame.interface_name", "ipv6.src", "tcp.srcport", "tcp.dstport", "udp.srcport",
                  "udp.dstport", "tcp.flags.syn", "tcp.flags.fin", "frame.comment")
    out = []
    for r in rows:
        tcp, udp = bool(r[2]), not r[2] and bool(r[4])
        sport, dport = (r[2], r[3]) if tcp else (r[4], r[5])
        label, fields = parse_comment(r[8])
        out.append(dict(ifc=r[0], v6=bool(r[1]), proto="tcp" if tcp else "udp" if udp else "other",
                        ports={int(sport or 0), int(dport or 0)}, syn=r[6] in ("1", "True"),
                        fin=r[7] in ("1", "True"), label=label, fields=fields))
    return out


class NsDaemon(Daemon):
    """The daemon inside network namespace ns (nsenter: same mounts, so it finds the cgroup2 mount)."""

    def __init__(self, ns, config):
        self.proc = subprocess.Popen(["nsenter", f"--net=/run/netns/{ns}", BIN, "daemon", "--config", str(config)],
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


@pytest.fixture
def lab(tmp_path):
    assert os.path.exists(PLUGIN), f"{PLUGIN} not built"
    l = Lab(tmp_path)
    try:
        yield l
    finally:
        l.close()


def test_every_packet_carries_its_owner_and_compare_scores_port_rules(tmp_path, lab):
    # Before the daemon: the server (its listener found by the start-time scan) and one connection.
    # Bound to :: (IPv4 too, as IPv4-mapped IPv6).
    server = lab.start("server", lab.a, ["/usr/bin/python3", "-u", "-m", "http.server", "8000", "--bind", "::"],
                       cwd=tmp_path)
    assert "Serving HTTP" in server.stdout.readline()
    early = lab.start("early", lab.a, ["/usr/bin/python3", "-c", EARLY_CLIENT], stdin=subprocess.PIPE)
    early_port = int(early.stdout.readline())

    names = '{ "curl" = "web", "early-client" = "early", "short-client" = "short", "udp-sender" = "udp", ' \
            '"python3" = "web-server" }'
    cfg = daemon_config(tmp_path, lab, f'names = {names}\nfields = ["pid", "comm", "cgroup"]\ngrace = "30s"',
                        [{"interface": "lo"}, {"interface": lab.veth_a}])
    d = NsDaemon(lab.a, cfg)
    try:
        d.wait_for("ready", timeout=30)
        early.stdin.write("go\n")
        early.stdin.flush()
        assert early.stdout.readline().strip() == "done"

        curls = []
        for _ in range(2):
            c = lab.start("curl", lab.a, ["curl", "-s", "-o", "/dev/null", "-w", "%{local_port}",
                                          "http://127.0.0.1:8000/"])
            out, _ = c.communicate(timeout=20)
            curls.append((c.pid, int(out)))
        c = lab.start("curl", lab.a, ["curl", "-g", "-s", "-o", "/dev/null", "-w", "%{local_port}", "http://[::1]:8000/"])
        v6_port = int(c.communicate(timeout=20)[0])
        curls.append((c.pid, v6_port))
        receiver = lab.start("udp-receiver", lab.a, ["/usr/bin/python3", "-c", UDP_RECEIVER])
        assert receiver.stdout.readline().strip() == "bound"
        sender = lab.start("udp-sender", lab.a, ["/usr/bin/python3", "-c", UDP_SENDER])
        udp_port = int(sender.communicate(timeout=20)[0])
        receiver.wait(timeout=20)
        short_c = tmp_path / "short.c"
        short_c.write_text(SHORT_CLIENT)
        sh("gcc", "-O2", "-o", tmp_path / "short-client", short_c)
        short = lab.start("short", lab.a, [tmp_path / "short-client"])
        short_port = int(short.communicate(timeout=20)[0])
        remote = lab.start("remote", lab.b, ["curl", "-s", "-o", "/dev/null", "-w", "%{local_port}",
                                             f"http://{lab.a_addr}:8000/"])
        remote_port = int(remote.communicate(timeout=20)[0])
        # Let the last FIN/RST exchanges finish before stopping.
        time.sleep(0.5)
    finally:
        assert d.stop() == 0, d.lines

    files = completed_files(tmp_path / "out")
    assert len(files) == 1, files
    got = packets(files[0])

    # What the test started: connection (interface, transport, client port) -> owner.
    py_server = (server.pid, "python3", lab.cgroup_path("server"), "web-server")
    expected = {("lo", "tcp", early_port): (early.pid, "early-client", lab.cgroup_path("early"), "early"),
                ("lo", "udp", udp_port): (sender.pid, "udp-sender", lab.cgroup_path("udp-sender"), "udp"),
                ("lo", "tcp", short_port): (short.pid, "short-client", lab.cgroup_path("short"), "short"),
                (lab.veth_a, "tcp", remote_port): py_server}
    for pid, port in curls:
        expected[("lo", "tcp", port)] = (pid, "curl", lab.cgroup_path("curl"), "web")
    server_ports = {8000, 9999}

    by_conn = {}
    for p in got:
        if p["proto"] not in ("tcp", "udp"):
            continue
        client = (p["ports"] - server_ports) or p["ports"]
        key = (p["ifc"], p["proto"], min(client))
        by_conn.setdefault(key, []).append(p)
    assert set(by_conn) == set(expected), (sorted(by_conn), sorted(expected))
    for key, (pid, comm, cgroup, label) in expected.items():
        conn = by_conn[key]
        for p in conn:
            assert p["label"] == label, (key, p)
            assert p["fields"] == {"pid": str(pid), "comm": comm, "cgroup": cgroup}, (key, p)
        if key[1] == "tcp":
            # SYN to FIN, both directions (the early connection's SYN came before the daemon).
            assert sum(p["syn"] for p in conn) == (0 if key[2] == early_port else 2), (key, conn)
            assert any(p["fin"] for p in conn), (key, conn)
        assert len({frozenset(p["ports"]) for p in conn}) == 1
    # Nothing else carries an owner: every labeled packet is one of those connections'.
    assert all(p["v6"] for p in by_conn[("lo", "tcp", v6_port)])
    assert not any(p["v6"] for p in by_conn[("lo", "tcp", early_port)])  # IPv4 to the IPv6 socket
    carried = {}
    for p in got:
        if p["label"]:
            carried[p["fields"]["pid"]] = carried.get(p["fields"]["pid"], 0) + 1
    want = {}
    for key, (pid, *_) in expected.items():
        want[str(pid)] = want.get(str(pid), 0) + len(by_conn[key])
    assert carried == want
    others = [p for p in got if p["proto"] not in ("tcp", "udp")]  # ARP, IPv6 neighbour discovery
    assert not any(p["label"] for p in others), others

    # pcapml compare against a port-based labeling of the same packets: every
    # TCP packet to or from port 8000 is "web", UDP port 9999 is "udp". The
    # early, short and remote connections are what the port rule gets wrong.
    guess_rules = tmp_path / "ports.toml"
    guess_rules.write_text('[[rule]]\nid = "web"\nlabel = "web"\nfilter = "tcp port 8000"\n\n'
                           '[[rule]]\nid = "udp"\nlabel = "udp"\nfilter = "udp port 9999"\n')
    guess = tmp_path / "ports.pcapng"
    run("label", "-P", files[0], "-L", guess_rules, "-W", guess, "--keep-unmatched")
    report = json.loads(run("compare", files[0], guess, "--json").stdout)
    count = {label: 0 for label in ("web", "early", "short", "udp", "web-server")}
    for key, (*_, label) in expected.items():
        count[label] += len(by_conn[key])
    cells = {(c["truth"], c["guess"]): c["packets"] for c in report["confusion"]}
    assert cells == {("web", "web"): count["web"], ("early", "web"): count["early"],
                     ("short", "web"): count["short"], ("web-server", "web"): count["web-server"],
                     ("udp", "udp"): count["udp"], **({("<unlabeled>", "<unlabeled>"): len(others)} if others else {})}
    wrong = count["early"] + count["short"] + count["web-server"]
    assert report["labels"]["web"]["precision"] == count["web"] / (count["web"] + wrong)
    assert report["labels"]["web"]["recall"] == 1.0
    assert report["labels"]["udp"]["precision"] == 1.0 and report["labels"]["udp"]["recall"] == 1.0
    assert report["labels"]["early"]["recall"] == 0.0 and report["labels"]["early"]["precision"] is None


def test_refuses_offline_and_names_what_is_missing(tmp_path, lab):
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[[rule]]\nid = "owner"\nplugin = "process"\n\n[[plugin]]\nname = "process"\npath = "{PLUGIN}"\n')
    trace = os.path.join(os.path.dirname(__file__), "..", "..", "config", "sample", "trace.pcap")
    out = tmp_path / "offline.pcapng"
    p = run("label", "-P", trace, "-L", rules, "-W", out, check=False)
    assert p.returncode == 1 and not out.exists()
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "plugin 'process' works only in the daemon capturing live interfaces" in p.stderr, p.stderr
    # A daemon replaying a file is offline too.
    cfg = daemon_config(tmp_path, lab, "", [{"file": trace}])
    p = run("daemon", "--check-config", cfg, check=False)
    assert p.returncode == 1 and "works only in the daemon capturing live interfaces" in p.stderr, p.stderr

    def check(settings, want):
        cfg = daemon_config(tmp_path, lab, settings, [{"interface": "lo"}])
        p = subprocess.run(["nsenter", f"--net=/run/netns/{lab.a}", BIN, "daemon", "--config", str(cfg)],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert want in p.stderr, p.stderr
        assert not os.path.exists(tmp_path / "out") or not os.listdir(tmp_path / "out")

    check('label_from = "browser"', "label_from must be \"comm\"")
    check('fields = ["pid", "owner"]', 'fields: unknown field "owner"')
    check('cgroup_root = "/nonexistent-cgroup"', "cgroup v2 hierarchy /nonexistent-cgroup")
    # Without privileges: user nobody, no capabilities.
    p = check_config_as_nobody(lab, "-all")
    assert p.returncode == 1, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "loading eBPF programs was refused" in p.stderr and "CAP_BPF and CAP_PERFMON" in p.stderr, p.stderr


def check_config_as_nobody(lab, caps):
    """`pcapml daemon --check-config` of a process plugin config as user nobody with only the
    capabilities caps ("-all": none), from a folder nobody can read (copies of the binary and
    plugin: the checkout may be closed to nobody)."""
    public = tempfile.mkdtemp(prefix="pcapml-process-")
    try:
        os.chmod(public, 0o755)
        nobody_bin, nobody_plugin = copies_for_every_user(public, BIN, PLUGIN)
        cfg = daemon_config(pathlib.Path(public), lab, "", [{"interface": "lo"}], plugin=nobody_plugin)
        shutil.chown(pathlib.Path(public) / "out", "nobody", "nogroup")  # the daemon's user writes there
        os.chmod(cfg, 0o644)
        ambient = [] if caps == "-all" else [f"--ambient-caps={caps}"]
        return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", f"--inh-caps={caps}",
                               *ambient, nobody_bin, "daemon", "--check-config", str(cfg)], capture_output=True,
                              text=True, timeout=30)
    finally:
        shutil.rmtree(public)


def test_needs_only_bpf_perfmon_and_net_admin(tmp_path, lab):
    """What the systemd drop-in grants is enough: a user with only CAP_NET_RAW,
    CAP_NET_ADMIN (the unit's), CAP_BPF and CAP_PERFMON loads and attaches the
    programs. And the bundled lab config checks."""
    p = check_config_as_nobody(lab, "+net_raw,+net_admin,+bpf,+perfmon")
    assert p.returncode == 0, p.stderr
    assert "ok: 1 source(s), 1 rule(s)" in p.stdout
    # The bundled lab config, with this build's plugin.
    sample_dir = os.path.join(os.path.dirname(__file__), "..", "..", "config", "sample")
    text = open(os.path.join(sample_dir, "process.toml")).read()
    assert 'path = "../../build/plugins/process.so"' in text
    shutil.copy(os.path.join(sample_dir, "process-rules.toml"), tmp_path)
    assert 'directory = "../../out/process"' in text
    (tmp_path / "out").mkdir()
    (tmp_path / "process.toml").write_text(text.replace("../../build/plugins/process.so", PLUGIN)
                                           .replace('directory = "../../out/process"', 'directory = "out"'))
    assert "ok: 1 source(s), 1 rule(s)" in run("daemon", "--check-config", tmp_path / "process.toml").stdout


def test_statistics_count_tracked_evicted_lost_and_unattributed(tmp_path, lab):
    """The plugin's own statistics, scraped from the daemon's metrics inside
    namespace A: sockets tracked while a program holds connections open, none
    evicted at the default bound; datagrams from the other namespace to a
    port nothing listens on are exactly the unattributed packets. Then with
    max_sockets = 4 and the smallest ring: the table stays at 4, what the
    holder opened beyond it is evicted, and a burst of sockets loses
    announcements. The stop line of the daemon carries them too."""
    port = free_port()
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nid = "owner"\nplugin = "process"\nfilter = "tcp port 7000 or udp port 7001"\n')

    def start(settings):
        top = f'[[plugin]]\nname = "process"\npath = "{PLUGIN}"\n{settings}\n'
        cfg = write_config(tmp_path / "daemon.toml", [{"interface": "lo"}, {"interface": lab.veth_a}], [rules],
                           tmp_path / "out", port=port, top=top)
        d = NsDaemon(lab.a, cfg)
        d.wait_for("ready", timeout=30)
        return d

    def stats():
        text = sh("ip", "netns", "exec", lab.a, "curl", "-s", f"http://127.0.0.1:{port}/metrics").stdout
        got = {}
        for name in ("sockets_evicted", "events_lost", "packets_unattributed", "connections_evicted"):
            got[name] = metric(text, "pcapml_plugin_counter_total", plugin="process", name=name)
        for name in ("sockets_tracked", "connections_tracked"):
            got[name] = metric(text, "pcapml_plugin_gauge", plugin="process", name=name)
        assert 'pcapml_plugin_gauge{name="sockets_tracked",plugin="process"}' in text, text
        return got

    def until(check, what):
        deadline = time.time() + 10
        while True:
            got = stats()
            if check(got):
                return got
            assert time.time() < deadline, (what, got)
            time.sleep(0.1)

    def hold(n):
        holder = lab.start("holder", lab.a, ["/usr/bin/python3", "-c", HOLDER, str(n)], stdin=subprocess.PIPE)
        assert holder.stdout.readline().strip() == "open"
        return holder

    # The default bound: nothing evicted, every socket of the holder tracked.
    d = start("")
    try:
        n = 5
        holder = hold(n)
        got = until(lambda g: g["sockets_tracked"] >= 2 * n + 1, "the holder's sockets tracked")
        assert got["sockets_evicted"] == 0 and got["events_lost"] == 0, got
        holder.stdin.write("send\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "sent"
        # Another host's datagrams to a port nobody here listens on: no socket of this host.
        sh("ip", "netns", "exec", lab.b, "/usr/bin/python3", "-c",
           "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
           f"for i in range(7): s.sendto(b'x', ('{lab.a_addr}', 7001))\n")
        got = until(lambda g: g["packets_unattributed"] >= 7, "seven unattributed datagrams")
        time.sleep(0.3)
        got = stats()
        # Every packet of the holder's connections was attributed: only the seven are not.
        assert got["packets_unattributed"] == 7, got
        assert got["sockets_evicted"] == 0 and got["sockets_tracked"] >= 2 * n + 1, got
        assert got["connections_tracked"] == n and got["connections_evicted"] == 0, got
        holder.stdin.write("end\n")
        holder.stdin.close()
        holder.wait(timeout=10)
    finally:
        assert d.stop() == 0, d.lines
    stop = [l for l in d.lines if l.startswith("pcapml daemon: plugin process: ")]
    assert len(stop) == 1 and "; sockets_tracked=" in stop[0] and ", sockets_evicted=0, events_lost=0, " \
        "packets_unattributed=7, " in stop[0], d.lines

    # A table of four sockets and the smallest ring.
    d = start("max_sockets = 4\nring_bytes = 65536")
    try:
        before = stats()
        n = 10
        holder = hold(n)
        got = until(lambda g: g["sockets_evicted"] >= before["sockets_evicted"] + 2 * n + 1 - 4,
                    "the holder's sockets beyond four evicted")
        assert got["sockets_tracked"] == 4, got
        assert got["events_lost"] == 0, got
        burst = lab.start("burst", lab.a, ["/usr/bin/python3", "-c", BURST])
        assert burst.communicate(timeout=60)[0].strip() == "done"
        got = until(lambda g: g["events_lost"] > 0, "announcements lost to the small ring")
        assert got["sockets_tracked"] == 4, got
        holder.stdin.close()
        holder.wait(timeout=10)
    finally:
        assert d.stop() == 0, d.lines
    stop = [l for l in d.lines if l.startswith("pcapml daemon: plugin process: ")]
    assert len(stop) == 1 and "sockets_tracked=4, " in stop[0] and "events_lost=0," not in stop[0], d.lines
