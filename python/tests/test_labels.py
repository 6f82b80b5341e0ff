import hashlib

import pytest

import pcapML
import pcapml
from pcapml.labels import LabelCache


def test_both_names_are_one_package():
    assert pcapML is pcapml
    assert pcapML.FormatError is pcapml.FormatError


def test_sample_id_is_sha256_prefix_big_endian():
    key = "a.pcap,google"
    expected = int(hashlib.sha256(key.encode()).hexdigest()[:16], 16)
    assert pcapml.sample_id(key) == expected == pcapml.sample_id(key.encode())


@pytest.mark.parametrize("text, parsed", [
    ("9003219589747928972,google", (9003219589747928972, "google")),
    ("5,google,browser=firefox,run=3", (5, "google,browser=firefox,run=3")),
    ("5,", (5, "")),
    ("5", (5, "")),
    ("18446744073709551615,x", (2**64 - 1, "x")),
    ("s=42,proc=firefox,pid=7", (42, "proc=firefox,pid=7")),
    ("proc=firefox,s=42", (42, "proc=firefox")),
    ("s=42,label=dns", (42, "label=dns")),
])
def test_parse_comment(text, parsed):
    assert pcapml.parse_comment(text) == parsed


@pytest.mark.parametrize("text", [
    None, "", "hello world", "18446744073709551616,x", "+5,x", " 5,x", "1_0,x", "５,x", "s=x,proc=y"])
def test_not_a_label(text):
    assert pcapml.parse_comment(text) is None


@pytest.mark.parametrize("metadata, meta", [
    ("google", {"label": "google"}),
    ("google,browser=firefox,run=3", {"label": "google", "browser": "firefox", "run": "3"}),
    ("proc=firefox,pid=7", {"label": "firefox", "proc": "firefox", "pid": "7"}),
    ("label=dns,proc=x", {"label": "dns", "proc": "x"}),
    ("a=b", {"label": "a=b"}),
    ("", {"label": ""}),
])
def test_parse_meta(metadata, meta):
    assert pcapml.parse_meta(metadata) == meta


def test_label_cache_strips_nul_padding_and_remembers():
    lookup = LabelCache()
    assert lookup(b"7,web\0\0") == (7, "web")
    assert lookup(b"7,web\0\0") is lookup(b"7,web\0\0")
    assert lookup(None) is None
    assert lookup(b"not a label") is None
