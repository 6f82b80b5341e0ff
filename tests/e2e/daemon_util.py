"""Helpers for the daemon tests: a running daemon, metrics scrapes, and test
hosts in network namespaces made by the test (198.18.0.0/15 addresses only)."""
import contextlib
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request

from conftest import BIN


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path, sources, rules, outdir, port=None, control=None, output_extra="", top=""):
    """A daemon config at path; outdir is created (the daemon does not create it)."""
    os.makedirs(outdir, exist_ok=True)
    text = top + "\n"
    for s in sources:
        text += "[[source]]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') if isinstance(v, str)
                                          else f"{k} = {str(v).lower() if isinstance(v, bool) else v}\n"
                                          for k, v in s.items())
    text += "[rules]\nfiles = [" + ", ".join(f'"{r}"' for r in rules) + "]\nunmatched = \"keep\"\n"
    text += f'[output]\ndirectory = "{outdir}"\nprefix = "t"\n{output_extra}\n'
    text += f'[metrics]\nlisten = "{"127.0.0.1:%d" % port if port else ""}"\n'
    if control:
        text += f'[control]\nsocket = "{control}"\n'
    path.write_text(text)
    return path


class Daemon:
    """pcapml daemon --config, with its stderr collected in the background."""

    def __init__(self, config, env=None, netns=None):
        """netns: run it in that network namespace (ip netns exec keeps the pid)."""
        prefix = ["ip", "netns", "exec", netns] if netns else []
        self.proc = subprocess.Popen([*prefix, BIN, "daemon", "--config", str(config)], stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(re.search(pattern, l) for l in self.lines):
                return True
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"daemon never said /{pattern}/; it said: {self.lines}")

    def stop(self, sig=15, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc


def scrape(port, netns=None):
    """The metrics page on 127.0.0.1:port, of network namespace netns if given."""
    if netns:
        code = f"import urllib.request\nprint(urllib.request.urlopen('http://127.0.0.1:{port}/metrics', timeout=5)" \
               ".read().decode(), end='')"
        return subprocess.run(["ip", "netns", "exec", netns, "/usr/bin/python3", "-c", code], check=True,
                              capture_output=True, text=True, timeout=10).stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def metric(text, name, /, **labels):
    """The value of one series in Prometheus text format (0 if absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"^(\w+)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return 0.0


@contextlib.contextmanager
def tmpfs(where, size):
    """A tmpfs of size (e.g. "1m") mounted at where (made here) until the block ends: a disk of
    known room for the test alone."""
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def completed_files(outdir):
    return sorted(os.path.join(outdir, f) for f in os.listdir(outdir) if f.endswith(".pcapng"))


class Veth:
    """A veth pair: `inside` in a new namespace with 198.18.N.2, `outside` in
    this one with 198.18.N.1. Traffic never leaves the pair."""

    def __init__(self, n):
        tag = f"{os.getpid() % 10000}{n}"
        self.ns, self.outside, self.inside = f"pcapml{tag}", f"pmo{tag}", f"pmi{tag}"
        self.out_addr, self.in_addr = f"198.18.{n}.1", f"198.18.{n}.2"
        sh = lambda *a: subprocess.run(a, check=True, capture_output=True)
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.outside, "type", "veth", "peer", "name", self.inside)
        sh("ip", "link", "set", self.inside, "netns", self.ns)
        sh("ip", "addr", "add", f"{self.out_addr}/24", "dev", self.outside)
        sh("ip", "link", "set", self.outside, "up")
        self.ns_exec("ip", "addr", "add", f"{self.in_addr}/24", "dev", self.inside)
        self.ns_exec("ip", "link", "set", self.inside, "up")
        self.ns_exec("ip", "link", "set", "lo", "up")

    def ns_exec(self, *args, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns, *args], check=True, capture_output=True, **kw)

    def send_udp(self, port, count, payload=b"x" * 100, gap=0.0):
        """UDP datagrams from inside to outside (count, to port)."""
        code = (f"import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                f"for i in range({count}):\n s.sendto({payload!r},('{self.out_addr}',{port}))\n"
                f" time.sleep({gap})\n")
        self.ns_exec("/usr/bin/python3", "-c", code)

    def close(self):
        subprocess.run(["ip", "link", "del", self.outside], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


class NsPair:
    """Two network namespaces made by the test and joined by a veth pair: the
    client side (`ns`, `inside`, 198.18.N.2) and the server side (`sns`,
    `outside`, 198.18.N.1). For tests that need answers: nothing they send
    passes through this (root) namespace, which a CI machine may firewall for
    test addresses. quiet: no IPv6 and no ARP (fixed MACs, static
    neighbours), so only the test's own packets cross the pair."""

    def __init__(self, n, quiet=True):
        tag = f"{os.getpid() % 10000}{n}"
        self.ns, self.sns = f"pmc{tag}", f"pms{tag}"
        self.inside, self.outside = f"pmi{tag}", f"pmo{tag}"
        self.in_addr, self.out_addr = f"198.18.{n}.2", f"198.18.{n}.1"
        in_mac, out_mac = "02:00:00:00:00:02", "02:00:00:00:00:01"
        sh = lambda *a: subprocess.run(a, check=True, capture_output=True)
        sh("ip", "netns", "add", self.ns)
        sh("ip", "netns", "add", self.sns)
        # Addresses given at creation: nothing (udev, say) replaces them later.
        sh("ip", "link", "add", self.outside, "netns", self.sns, "address", out_mac, "type", "veth",
           "peer", "name", self.inside, "netns", self.ns, "address", in_mac)
        for ns, dev, addr, peer, peer_mac in [(self.ns, self.inside, self.in_addr, self.out_addr, out_mac),
                                              (self.sns, self.outside, self.out_addr, self.in_addr, in_mac)]:
            if quiet:
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            if quiet:
                sh("ip", "-n", ns, "neigh", "replace", peer, "lladdr", peer_mac, "dev", dev)

    def ns_exec(self, *args, **kw):
        """A command on the client side, to its end."""
        return subprocess.run(["ip", "netns", "exec", self.ns, *args], check=True, capture_output=True, **kw)

    def sns_exec(self, *args, **kw):
        """A command on the server side, to its end."""
        return subprocess.run(["ip", "netns", "exec", self.sns, *args], check=True, capture_output=True, **kw)

    def popen(self, ns, *args, **kw):
        """A command in namespace ns (self.ns or self.sns), in the background."""
        return subprocess.Popen(["ip", "netns", "exec", ns, *args], **kw)

    def send_udp(self, port, count, payload=b"x" * 100, gap=0.0):
        """UDP datagrams from the client side to the server side."""
        Veth.send_udp(self, port, count, payload, gap)

    def close(self):
        for ns in (self.ns, self.sns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
