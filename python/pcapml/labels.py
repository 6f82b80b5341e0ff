"""The label on the wire (docs/format.md: The label) and sample identifiers (Sample IDs)."""
import hashlib


def sample_id(key):
    """sampleID of a key: the first 8 bytes of its SHA-256, big-endian."""
    if isinstance(key, str):
        key = key.encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def _uint64(text):
    # str.isdigit() alone accepts non-ASCII digits, and int() accepts '+1', ' 1', '1_0'.
    if text.isascii() and text.isdigit() and len(text) <= 20:
        value = int(text)
        if value < 1 << 64:
            return value
    return None


def parse_comment(text):
    """(sampleID, metadata) of a pcapml comment, or None if it is not a label.

    Accepts `<id>,<metadata>` (and a bare `<id>`) and the older `s=<id>,proc=<x>,...`,
    where the metadata is every field but `s=`.
    """
    if text is None:
        return None
    head, _, rest = text.partition(",")
    sid = _uint64(head)
    if sid is not None:
        return sid, rest
    fields = text.split(",")
    for i, field in enumerate(fields):
        if field.startswith("s="):
            sid = _uint64(field[2:])
            if sid is not None:
                return sid, ",".join(fields[:i] + fields[i + 1:])
    return None


def parse_meta(metadata):
    """Fields of a metadata string as a dict; 'label' holds the sample's label.

    The first field is the label (`google,browser=firefox` gives label 'google'),
    unless it is an older release's `proc=`/`label=` field. Later fields are
    `key=value`; fields without '=' after the first are not keys and are left out.
    """
    meta = {}
    plain = None
    for i, field in enumerate(metadata.split(",")):
        key, eq, value = field.partition("=")
        if i == 0 and not (eq and key in ("proc", "label")):
            plain = field
        elif eq:
            meta.setdefault(key, value)
    if plain is not None:
        meta["label"] = plain
    elif "label" not in meta and "proc" in meta:
        meta["label"] = meta["proc"]
    return meta


def decode_comment(raw):
    """Text of a raw opt_comment value; trailing NULs some writers add are dropped."""
    return raw.rstrip(b"\0").decode("utf-8", "replace")


class LabelCache:
    """Raw comment bytes -> (sid, metadata) or None, parsed once per distinct comment."""

    def __init__(self):
        self._known = {}

    def __call__(self, raw):
        try:
            return self._known[raw]
        except KeyError:
            parsed = None if raw is None else parse_comment(decode_comment(raw))
            if len(self._known) < 1 << 20:  # bounded: a file could give every packet its own comment
                self._known[raw] = parsed
            return parsed
