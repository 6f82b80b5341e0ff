"""Issue 18, monitoring: contrib/'s Grafana dashboard and Prometheus alert
rules. The dashboard has what Grafana needs, every PromQL expression in it
and in the alerts parses (promtool), and every pcapml metric they name is in
a real scrape of a running daemon, whose alert gauges behave as the alerts
expect. (What the alerts do: promtool test rules, CTest contrib.promtool_test.)
Runs the daemon: run under /tmp/pcapml-e2e.lock."""
import json
import os
import re
import subprocess
import time

import yaml

from conftest import BIN, SAMPLE, SOURCE
from daemon_util import Daemon, completed_files, free_port, metric, scrape, write_config

DASHBOARD = os.path.join(SOURCE, "contrib", "grafana", "pcapml.json")
ALERTS = os.path.join(SOURCE, "contrib", "prometheus", "pcapml-alerts.yml")
# Grafana's variables, as it substitutes them before querying.
VARIABLES = {"$__rate_interval": "1m", "$job": ".*", "$instance": ".*"}


def dashboard_exprs():
    dash = json.load(open(DASHBOARD))
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def alert_exprs():
    return [r["expr"] for g in yaml.safe_load(open(ALERTS))["groups"] for r in g["rules"]]


def substituted(expr):
    for k, v in VARIABLES.items():
        expr = expr.replace(k, v)
    return expr


def test_dashboard_has_what_grafana_needs():
    dash = json.load(open(DASHBOARD))
    assert dash["title"] and dash["uid"] and isinstance(dash["schemaVersion"], int)
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert {"job", "instance"} <= set(variables)
    ids, cells = set(), set()
    for p in dash["panels"]:
        assert p["id"] not in ids
        ids.add(p["id"])
        g = p["gridPos"]
        assert all(isinstance(g[k], int) for k in "hwxy") and g["x"] + g["w"] <= 24, p["title"]
        mine = {(g["x"] + dx, g["y"] + dy) for dx in range(g["w"]) for dy in range(g["h"])}
        assert not mine & cells, f"panel {p['title']} overlaps another"
        cells |= mine
        if p["type"] == "row":
            continue
        assert p["type"] in ("timeseries", "stat") and p["title"] and p["description"]
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(set(refs)) == len(refs) and all(t["expr"] for t in p["targets"])
    titles = " ".join(p["title"] for p in dash["panels"]).lower()
    for topic in ("received", "written", "dropped", "unmatched", "files", "reload", "plugin"):
        assert topic in titles, topic


def test_every_expression_parses(tmp_path):
    """promtool checks each query as a recording rule: the same PromQL parser Prometheus uses."""
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"pcapml:dashboard:{i}", "expr": substituted(e)}
                                                        for i, e in enumerate(dashboard_exprs())]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    p = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"SUCCESS: {len(dashboard_exprs())} rules found" in p.stdout


def test_metric_names_exist_in_a_real_scrape_and_the_alert_gauges_work(tmp_path):
    rules = tmp_path / "rules.toml"
    # flow_position, and a test plugin with statistics of its own (the plugin statistics panels).
    good = ('[[rule]]\nid = "pos"\nplugin = "flow_position"\nfilter = "udp"\n\n'
            '[[rule]]\nid = "echo"\nplugin = "test_echo"\nfilter = "tcp"\n\n[[rule]]\nid = "all"\nlabel = "all"\n')
    rules.write_text(good)
    plugin = os.path.join(os.path.dirname(BIN), "plugins", "flow_position.so")
    echo = os.path.join(os.path.dirname(BIN), "plugins", "testing", "test_echo_stats.so")
    port, out = free_port(), tmp_path / "out"
    # The sample lab's capture (3.7 s at twice its pace: the last file completes well after the
    # daemon's start), then an idle live source that keeps the daemon running.
    cfg = write_config(tmp_path / "d.toml", [{"file": os.path.join(SAMPLE, "trace.pcap"), "pace": "recorded",
                                              "speed": 2.0},
                                             {"interface": "lo", "filter": "udp port 9"}],
                       [rules], out, port=port,
                       output_extra='rotate_packets = 10\nrotate_seconds = 3600\nmax_bytes = "20KiB"',
                       top=f'[[plugin]]\nname = "flow_position"\npath = "{plugin}"\n\n'
                           f'[[plugin]]\nname = "test_echo"\npath = "{echo}"\nevery = 1000\n')
    d = Daemon(cfg)
    try:
        d.wait_for("ready")
        deadline = time.time() + 20
        while metric(scrape(port), "pcapml_files_completed_total") < 5:  # 52 packets: the sixth file stays open
            assert time.time() < deadline, d.lines
            time.sleep(0.05)
        time.sleep(0.3)  # the counters are published every 100 ms
        text = scrape(port)
        exposed = set(re.findall(r"^# TYPE (\w+) ", text, re.M))
        used = {n for e in dashboard_exprs() + alert_exprs() for n in re.findall(r"\bpcapml_\w+", e)}
        assert len(used) >= 14 and {"pcapml_plugin_counter_total", "pcapml_plugin_gauge"} <= used
        assert used <= exposed, used - exposed
        # The gauges the alerts read.
        assert metric(text, "pcapml_output_rotate_seconds") == 3600
        assert metric(text, "pcapml_config_last_reload_successful") == 1
        # Set when a file completes (the daemon's start until then): not before the last one was written.
        last_written = max(os.stat(f).st_mtime for f in completed_files(out))
        assert last_written <= metric(text, "pcapml_files_completed_last_timestamp_seconds") <= time.time()
        assert metric(text, "pcapml_files_completed_total") == 5
        # The disk: files of about 8 KiB under a 20 KiB budget, with room for one more.
        kept = [os.path.getsize(f) for f in completed_files(out)]
        assert metric(text, "pcapml_output_bytes_kept") == sum(kept)
        assert metric(text, "pcapml_output_files_removed_total") == 5 - len(kept) >= 3
        assert sum(kept) + kept[-1] <= 20 * 1024 == metric(text, "pcapml_output_max_bytes")
        assert 0 < metric(text, "pcapml_output_filesystem_free_bytes") < metric(text, "pcapml_output_filesystem_size_bytes")
        # A broken rules file on SIGHUP: 0 until a reload works again.
        rules.write_text(good + "[[rule]]\nid = \"bad\"\nlabel = \"x\"\nfilter = \"not a filter (\"\n")
        d.proc.send_signal(1)
        d.wait_for("reload failed")
        assert metric(scrape(port), "pcapml_config_last_reload_successful") == 0
        rules.write_text(good)
        d.proc.send_signal(1)
        d.wait_for("rules reloaded")
        assert metric(scrape(port), "pcapml_config_last_reload_successful") == 1
    finally:
        assert d.stop() == 0
