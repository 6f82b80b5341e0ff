"""Issue 18, labels over time: summary --json over several files, and the
--timeline SVG of the bundled sample lab checked as XML against the numbers
summary --json gives."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

from conftest import run, tshark

SVG = "{http://www.w3.org/2000/svg}"


def label_sample_lab(tmp_path, sample):
    """The sample lab's capture labeled with its rules, as run.sh's daemon does."""
    lab = tmp_path / "lab.pcapng"
    run("-P", os.path.join(sample, "trace.pcap"), "-L", os.path.join(sample, "metadata.csv"), "-W", lab)
    return lab


def test_summary_json_counts_several_files_as_one_capture(tmp_path, sample):
    lab = label_sample_lab(tmp_path, sample)
    one = json.loads(run("summary", "-M", lab, "--json").stdout)
    two = json.loads(run("summary", "-M", lab, lab, "--json").stdout)
    assert one["files"] == [str(lab)]
    comments = [r[0] for r in tshark(lab, "frame.comment")]
    assert one["total"]["packets"] == len(comments) == 52
    for label, s in one["labels"].items():
        mine = [c for c in comments if (c.split(",")[1] if c else "<unlabeled>") == label]
        assert s["packets"] == len(mine)
        assert s["samples"] == len({c.split(",")[0] for c in mine if c})
        assert s["first"].endswith("Z") and s["first_ns"] <= s["last_ns"]
        # Twice the same file: twice the packets, the same samples.
        assert two["labels"][label]["packets"] == 2 * s["packets"]
        assert two["labels"][label]["samples"] == s["samples"]
    # The CSV says the same.
    csv = {r.split(",")[0]: r.split(",")[1:] for r in run("summary", "-M", lab, "--csv").stdout.splitlines()[1:]}
    assert {k: [str(v["samples"]), str(v["packets"]), str(v["bytes"]), v["first"], v["last"]]
            for k, v in one["labels"].items()} == \
        {k: v for k, v in csv.items() if k != "TOTAL"}


def test_timeline_of_the_sample_lab_has_a_series_per_label_and_summary_totals(tmp_path, sample):
    lab = label_sample_lab(tmp_path, sample)
    svg = tmp_path / "timeline.svg"
    rules = os.path.join(sample, "metadata.csv")
    out = json.loads(run("summary", "-M", lab, "--timeline", svg, "-L", rules, "--json").stdout)
    root = ET.parse(svg).getroot()  # well-formed XML
    assert root.tag == SVG + "svg" and root.get("viewBox")
    series = [p for p in root.iter(SVG + "path") if p.get("class") == "series"]
    labels = out["labels"]
    assert sorted(p.get("data-label") for p in series) == sorted(labels)
    assert len(series) == len(labels) >= 5
    for p in series:
        assert int(p.get("data-packets")) == labels[p.get("data-label")]["packets"]
        assert p.find(SVG + "title") is not None
    # The timeline's bins hold every packet of each label, no more.
    tl = out["timeline"]
    assert set(tl["series"]) == set(labels)
    for label, bins in tl["series"].items():
        assert len(bins) == tl["bins"]
        assert sum(bins) == labels[label]["packets"]
    assert tl["start_ns"] <= out["total"]["first_ns"] < tl["start_ns"] + tl["bin_ns"]
    assert out["total"]["last_ns"] < tl["start_ns"] + tl["bins"] * tl["bin_ns"]
    # Legend, axes in UTC, and the one rule with a time window drawn (legacy rules: id file:line).
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert "time (UTC)" in texts and "packets/s" in texts
    assert "2023-11-14" in texts  # the date under the first time tick
    legend = {g.get("data-label"): ["".join(t.itertext()) for t in g.iter(SVG + "text")]
              for g in root.iter(SVG + "g") if g.get("class") == "legend"}
    assert set(legend) == set(labels)
    for label, (name, packets, share) in legend.items():
        assert name == label and int(packets) == labels[label]["packets"] and share.endswith("%")
    windows = [r for r in root.iter(SVG + "rect") if r.get("class") == "rule-window"]
    assert [w.get("data-rule") for w in windows] == [rules + ":4"]
    assert [(r["first_ns"], r["last_ns"]) for r in tl["rules"] if r["first_ns"] is not None] == \
        [(1700000000 * 10**9, 1700000001 * 10**9 + 999999999)]
    assert any("rules without a time window apply throughout" in t for t in texts)


def test_timeline_shows_the_gap_between_two_captures(tmp_path, sample):
    lab = label_sample_lab(tmp_path, sample)
    later = tmp_path / "later.pcapng"
    subprocess.run(["editcap", "-t", "60", str(lab), str(later)], check=True, capture_output=True)  # a minute on
    svg = tmp_path / "two.svg"
    out = json.loads(run("summary", "-M", lab, later, "--timeline", svg, "--json").stdout)
    tl = out["timeline"]
    assert out["total"]["packets"] == 104
    assert sum(sum(b) for b in tl["series"].values()) == 104
    # One gap, from the bin after the first capture's last packet (3.7 s) to the second's first (60 s).
    assert len(tl["gaps"]) == 1, tl["gaps"]
    gap, ns = tl["gaps"][0], 10**9
    assert 1700000003700000000 < gap["start_ns"] <= 1700000003700000000 + tl["bin_ns"]
    assert gap["end_ns"] == 1700000060 * ns
    root = ET.parse(svg).getroot()
    assert len([r for r in root.iter(SVG + "rect") if r.get("class") == "gap"]) == 1
