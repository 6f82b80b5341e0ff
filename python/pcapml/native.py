"""Finds pcapml._native, the C++ reader, if it was built.

`pip install ./python` builds it into the package; a CMake build puts it in
<build>/python/pcapml, which PCAPML_NATIVE_DIR names. PCAPML_NATIVE=0 reads
in pure Python even when the module is there (the results are the same);
PCAPML_NATIVE=1 makes a missing module an ImportError.
"""
import importlib
import importlib.machinery
import importlib.util
import os
import sys


def _from_dir(where):
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(where, "_native" + suffix)
        if os.path.exists(path):
            spec = importlib.util.spec_from_file_location("pcapml._native", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules["pcapml._native"] = module
            return module
    raise ImportError(f"PCAPML_NATIVE_DIR={where}: no _native module there")


def load():
    """The module, or None when it is not built or PCAPML_NATIVE=0."""
    wanted = os.environ.get("PCAPML_NATIVE", "")
    if wanted == "0":
        return None
    if os.environ.get("PCAPML_NATIVE_DIR"):
        return _from_dir(os.environ["PCAPML_NATIVE_DIR"])
    try:
        return importlib.import_module("pcapml._native")
    except ModuleNotFoundError:
        if wanted == "1":
            raise
        return None


NATIVE = load()
