"""Issue 19: clients cannot hold the daemon's endpoints. Idle, one-byte-a-second
and 1,000-connection floods on the metrics port and the control socket while
a scrape and `pcapml ctl status` must answer within 1 s; the control socket
path claimed safely; run-time rules that cost the same at 10,000 as at none
and give their memory back."""
import os
import resource
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import BIN, SAMPLE, run
from daemon_util import Daemon, Veth, free_port, write_config

TRACE = os.path.join(SAMPLE, "trace.pcap")
CTL_TIMEOUT = 5     # ControlServer::kRequestTimeout
HTTP_TIMEOUT = 10   # HttpEndpoint::kRequestTimeout


@pytest.fixture(scope="module", autouse=True)
def many_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def veth():
    v = Veth(8)
    yield v
    v.close()


STARTED = []


@pytest.fixture(autouse=True)
def no_daemon_left():
    """A failed test leaves no daemon running."""
    yield
    while STARTED:
        d = STARTED.pop()
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def start(tmp_path, veth, port=None, control=None, name="d"):
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:udp,file-rule\n")
    out = tmp_path / f"out-{name}"
    # A small kernel ring, so that the RSS measured is mostly the daemon's own.
    d = Daemon(write_config(tmp_path / f"{name}.toml", [{"interface": veth.outside, "buffer": "2MiB"}], [rules], out,
                            port=port, control=control))
    STARTED.append(d)
    d.wait_for("ready")
    return d


def timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def scrape_within(port, limit=1.0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=limit) as r:
        body, took = timed(r.read)
    return body.decode()


def assert_fast(port, sock):
    """A scrape and `pcapml ctl status` each answer within 1 s."""
    body, took = timed(lambda: scrape_within(port))
    assert "pcapml_packets_written_total" in body and took < 1.0, took
    p, took = timed(lambda: run("ctl", "--socket", sock, "status", check=False, timeout=5))
    assert p.returncode == 0 and "written=" in p.stdout and took < 1.0, (p.stderr, took)


def tcp(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def unix(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(str(path))
    return s


def read_until_closed(s, limit):
    """Everything the peer sends until it closes (within limit seconds), and when."""
    s.settimeout(limit)
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    return data, time.monotonic()


class Slowloris(threading.Thread):
    """Sends `payload` one byte a second on a connection until the daemon closes it."""

    def __init__(self, sock, payload):
        super().__init__(daemon=True)
        self.sock, self.payload, self.closed_at, self.received = sock, payload, None, b""
        self.start()

    def run(self):
        self.sock.settimeout(1.0)
        for byte in self.payload:
            try:
                self.sock.send(bytes([byte]))
                self.received += self.sock.recv(4096)
                if self.received == b"" or self.received.endswith(b"\n"):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        self.closed_at = time.monotonic()


def test_idle_and_slow_clients_are_cut_and_never_hold_a_scrape_or_ctl(tmp_path, veth):
    port, sock = free_port(), tmp_path / "ctl.sock"
    d = start(tmp_path, veth, port=port, control=sock)
    opened = time.monotonic()
    idle_http = [tcp(port) for _ in range(5)]
    idle_ctl = [unix(sock) for _ in range(5)]
    slow_http = Slowloris(tcp(port), b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\n\r\n")
    slow_ctl = Slowloris(unix(sock), b"status\tx\tx\n")  # complete only after 11 s
    for _ in range(3):
        assert_fast(port, sock)
    # Idle connections: the control socket says why, then closes, after 5 s; HTTP just closes after 10 s.
    for s in idle_ctl:
        data, at = read_until_closed(s, CTL_TIMEOUT + 3)
        assert data == b"error no complete request within 5 s: closing\n"
        assert CTL_TIMEOUT - 0.5 < at - opened < CTL_TIMEOUT + 2
    slow_ctl.join(CTL_TIMEOUT + 3)
    assert slow_ctl.received == b"error no complete request within 5 s: closing\n"
    assert CTL_TIMEOUT - 0.5 < slow_ctl.closed_at - opened < CTL_TIMEOUT + 2
    for s in idle_http:
        data, at = read_until_closed(s, HTTP_TIMEOUT + 3)
        assert data == b"" and HTTP_TIMEOUT - 0.5 < at - opened < HTTP_TIMEOUT + 2
    slow_http.join(HTTP_TIMEOUT + 3)
    assert slow_http.received == b"" and HTTP_TIMEOUT - 0.5 < slow_http.closed_at - opened < HTTP_TIMEOUT + 2
    # A request head over 8 KiB and a request without the blank line's CR.
    s = tcp(port)
    s.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")
    assert read_until_closed(s, 5)[0].startswith(b"HTTP/1.1 431 ")
    s = tcp(port)
    s.sendall(b"GET /metrics HTTP/1.0\n\n")
    answer = read_until_closed(s, 5)[0]
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"pcapml_build_info" in answer
    s = tcp(port)
    s.sendall(b"POST /metrics HTTP/1.1\r\n\r\n")
    assert read_until_closed(s, 5)[0].startswith(b"HTTP/1.1 405 ")
    assert d.stop() == 0


def test_floods_of_1000_connections_never_hold_a_scrape_or_ctl(tmp_path, veth):
    port, sock = free_port(), tmp_path / "ctl.sock"
    d = start(tmp_path, veth, port=port, control=sock)
    flood_ctl = [unix(sock) for _ in range(1000)]
    flood_http = [tcp(port) for _ in range(1000)]
    half_sent = []
    for i in range(200):  # each sends part of a request at once (later ones may close it)
        s = tcp(port) if i % 2 else unix(sock)
        s.sendall(b"GET /metr" if i % 2 else b"add\tid=half")
        half_sent.append(s)
    for _ in range(5):
        assert_fast(port, sock)
    # The longest waiting control connections made room, and said so.
    data, _ = read_until_closed(flood_ctl[0], 5)
    assert data == b"error closed: 64 control connections are open and this one waited longest for a request\n"
    assert read_until_closed(flood_http[0], 5)[0] == b""
    for s in flood_ctl + flood_http + half_sent:
        s.close()
    assert_fast(port, sock)
    assert d.stop() == 0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def pipelined(s, reader, requests):
    """Sends every request at once (from a thread, so the answers are read
    meanwhile), reads every answer; the seconds it took."""
    started = time.monotonic()
    writer = threading.Thread(target=s.sendall, args=(b"".join(requests),), daemon=True)
    writer.start()
    oks = 0
    while oks < len(requests):
        line = reader.readline()
        assert line and not line.startswith(b"error"), line
        oks += line == b"ok\n"
    writer.join()
    return time.monotonic() - started


def test_10000_run_time_rules_add_and_end_in_under_a_second_and_give_memory_back(tmp_path, veth):
    sock = tmp_path / "ctl.sock"
    d = start(tmp_path, veth, control=sock)
    pid = d.proc.pid
    n = 10000
    with unix(sock) as s:
        s.settimeout(30)
        reader = s.makefile("rb")
        pipelined(s, reader, [b"add\tid=warm\tlabel=x\tfilter=host 198.18.1.1\n", b"end\twarm\n"])
        before = rss_kib(pid)
        adds = [b"add\tid=r%d\tlabel=lab%d\tfilter=host 198.18.%d.%d\n" % (i, i, i // 250, i % 250)
                for i in range(n)]
        took_adds = pipelined(s, reader, adds)
        assert took_adds < 1.0, took_adds
        # The limit: one more is refused until one ends.
        s.sendall(b"add\tid=one-more\tlabel=x\n")
        assert reader.readline() == b"error 10000 run-time rules are active: end some first\n"
    peak = rss_kib(pid)
    # Every connection busy reading a long `list` answer: one more is refused
    # with a line, and `pcapml ctl` shows it (not "Broken pipe").
    busy = []
    for _ in range(64):
        b = unix(sock)
        b.sendall(b"list\n")
        assert b.recv(1)  # its answer (about 700 KB) is being written
        busy.append(b)
    p = run("ctl", "--socket", sock, "status", check=False)
    assert p.returncode == 1, p.stdout
    assert p.stderr == "pcapml: ctl: too many control connections (64 open, all busy)\n"
    for b in busy:
        b.close()
    with unix(sock) as s:
        s.settimeout(30)
        took_ends = pipelined(s, s.makefile("rb"), [b"end\tr%d\n" % i for i in range(n)])
        assert took_ends < 1.0, took_ends
    after = rss_kib(pid)
    assert "runtime_rules=0" in run("ctl", "--socket", sock, "status").stdout
    print(f"adds {took_adds:.2f} s, ends {took_ends:.2f} s, RSS {before} -> {peak} -> {after} KiB")
    assert peak > before + 5000 and after <= before * 1.2, (before, peak, after)
    assert d.stop() == 0


def test_control_socket_path_is_claimed_safely(tmp_path, veth):
    # A regular file there is kept, and the daemon says why it will not start.
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n")
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:udp,file-rule\n")
    config = write_config(tmp_path / "f.toml", [{"file": TRACE}], [rules], tmp_path / "out-f", control=precious)
    p = subprocess.run([BIN, "daemon", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr == (f"pcapml: control socket {precious} ([control] socket): a file that is not a socket "
                        "is there; not replacing it\n")
    assert precious.read_text() == "keep me\n"
    # A stale socket (nobody listens) is replaced.
    sock = tmp_path / "ctl.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock))
    stale.close()
    first = start(tmp_path, veth, control=sock, name="first")
    assert "written=" in run("ctl", "--socket", sock, "status").stdout
    # A second daemon on the same socket is refused; the first keeps its control.
    config = write_config(tmp_path / "second.toml", [{"interface": veth.outside}], [rules], tmp_path / "out-second",
                          control=sock)
    p = subprocess.run([BIN, "daemon", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr == (f"pcapml: control socket {sock} ([control] socket): another daemon answers on it; "
                        "not taking it over\n")
    status = run("ctl", "--socket", sock, "status").stdout
    assert f"pid={first.proc.pid}" in status
    assert first.stop() == 0
    assert not os.path.exists(sock)


def test_bad_metrics_address_is_one_line_naming_key_and_value(tmp_path):
    rules = tmp_path / "rules.csv"
    rules.write_text("BPF:udp,file-rule\n")
    config = write_config(tmp_path / "d.toml", [{"file": TRACE}], [rules], tmp_path / "out")
    p = subprocess.run([BIN, "daemon", "--config", str(config), "--metrics-listen", "127.0.0.1:99999"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr == ('pcapml: --metrics-listen "127.0.0.1:99999": port must be a number '
                        "from 0 to 65535\n")
    text = config.read_text().replace('listen = ""', 'listen = "localhost:9431"')
    config.write_text(text)
    p = subprocess.run([BIN, "daemon", "--check-config", str(config)], capture_output=True, text=True, timeout=30)
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if l.startswith("listen"))
    assert p.returncode == 1
    assert p.stderr == (f"pcapml: {config}:{line}: [metrics]: listen \"localhost:9431\": 'localhost' is not an "
                        "IP address\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config.write_text(text.replace("localhost:9431", f"127.0.0.1:{port}"))
        p = subprocess.run([BIN, "daemon", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    line = next(i + 1 for i, l in enumerate(config.read_text().splitlines()) if l.startswith("listen"))
    assert p.stderr == (f'pcapml: {config}:{line}: [metrics] listen "127.0.0.1:{port}": cannot listen: '
                        "Address already in use\n")
