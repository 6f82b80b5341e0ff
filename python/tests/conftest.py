import os
import sys

import pytest

# Tests import the package from this checkout, and pcapgen from here, without installing.
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.dirname(HERE), HERE]
# The native module as CMake builds it (CTest names it; by hand, build/ is the default).
if "PCAPML_NATIVE_DIR" not in os.environ and os.path.isdir(os.path.join(REPO, "build", "python", "pcapml")):
    os.environ["PCAPML_NATIVE_DIR"] = os.path.join(REPO, "build", "python", "pcapml")

import pcapml.native  # noqa: E402  (after the path and environment above)


def conformance_corpus():
    """The public pcapng conformance corpus: PCAPNG_CONFORMANCE, else the repository's tests/data."""
    return os.environ.get("PCAPNG_CONFORMANCE") or os.path.join(REPO, "tests", "data", "pcapng-conformance")


def require_native():
    assert pcapml.native.NATIVE is not None, \
        "pcapml._native is not built: cmake --build build, or set PCAPML_NATIVE_DIR to where it is"
    return pcapml.native.NATIVE


@pytest.fixture(params=["python", "native"])
def backend(request, monkeypatch):
    """Runs a test with the pure-Python reader and again with the native module."""
    if request.param == "python":
        monkeypatch.setattr(pcapml.native, "NATIVE", None)
    else:
        require_native()
    return request.param


@pytest.fixture
def pure_python(monkeypatch):
    monkeypatch.setattr(pcapml.native, "NATIVE", None)
