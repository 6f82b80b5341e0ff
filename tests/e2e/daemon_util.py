"""Helpers for the daemon tests: a running daemon, metrics scrapes, and test
hosts in network namespaces made by the test (198.18.0.0/15 addresses only)."""
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

    def __init__(self, config, env=None):
        self.proc = subprocess.Popen([BIN, "daemon", "--config", str(config)], stderr=subprocess.PIPE,
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


def scrape(port):
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
