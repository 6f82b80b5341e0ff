"""pcapml's sampler: read labeled pcapng datasets one sample at a time.

    import pcapml
    for sample in pcapml.sampler("dataset.pcapng"):
        for idx, sid, label, ts, pkt_buf in sample:
            ...

Standard library only; the native module (pcapml._native, built by CMake or
`pip install ./python`) reads with pcapml's C++ reader when it is there.
batches() needs numpy, to_pandas() pandas, pcapml.torch PyTorch and
pcapml.dask Dask. See README.md in this folder.
"""
from . import native
from .batches import batches, to_pandas
from .labels import parse_comment, parse_meta, sample_id
from .reader import FormatError, Packet, read_packets
from .sampler import Sample, byte_ranges, read_sids, sampler, sampler_range
from .splits import split_of

__version__ = "0.1.0"
__all__ = ["FormatError", "Packet", "Sample", "batches", "byte_ranges", "parse_comment", "parse_meta",
           "read_packets", "read_sids", "sample_id", "sampler", "sampler_range", "split_of", "to_pandas"]
