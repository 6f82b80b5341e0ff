"""Files pcapml writes grouped by sample say so in their section header, and
sampler() then reads them in one pass; other files get the indexed reader."""
import os

import pcapml
from test_with_pcapml import REPO, run

SAMPLE = os.path.join(REPO, "config", "sample")


def test_directory_mode_and_sort_declare_grouping_capture_mode_does_not(tmp_path):
    ds, cap, srt = tmp_path / "ds.pcapng", tmp_path / "cap.pcapng", tmp_path / "sorted.pcapng"
    run("-D", os.path.join(SAMPLE, "dataset"), "-L", os.path.join(SAMPLE, "labels.txt"), "-W", str(ds))
    run("-P", os.path.join(SAMPLE, "trace.pcap"), "-L", os.path.join(SAMPLE, "metadata.csv"), "-W", str(cap))
    run("-M", str(cap), "-s", "-W", str(srt))
    from pcapml.sampler import declares_grouped
    assert declares_grouped(ds) and declares_grouped(srt)
    assert not declares_grouped(cap)
    # The capture-mode file is interleaved: the default must still give whole samples.
    by_sid = {s.sid: len(s) for s in pcapml.sampler(str(cap))}
    assert by_sid == {s.sid: len(s) for s in pcapml.sampler(str(srt))}
    assert sum(by_sid.values()) == 52
