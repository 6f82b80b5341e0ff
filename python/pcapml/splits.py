"""The train/validation/test split `pcapml ids --split` writes, computed in Python.

A sample's part depends only on its sampleID and the seed: h = the first 8
bytes of SHA-256("<seed>,<sampleID>") read big-endian, and h / 2^64 laid over
the weights. Adding files to a dataset adds samples but never moves one.
"""
import hashlib


def split_of(sid, seed=0, weights=(80, 10, 10)):
    """'train', 'val' or 'test' (or 'train'/'test' for two weights) for a sampleID."""
    if len(weights) not in (2, 3) or min(weights) < 1:
        raise ValueError("weights: 2 or 3 positive numbers, e.g. (80, 10, 10)")
    names = ("train", "val", "test") if len(weights) == 3 else ("train", "test")
    h = int.from_bytes(hashlib.sha256(f"{seed},{int(sid)}".encode()).digest()[:8], "big")
    x = h * sum(weights) >> 64
    for name, weight in zip(names, weights):
        if x < weight:
            return name
        x -= weight
    raise AssertionError("unreachable")
