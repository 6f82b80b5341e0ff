"""Builds pcapml._native, the sampler's reading in C++ with pcapml's reader
(pybind11 headers from Debian's pybind11-dev, a C++20 compiler). Where it
cannot be built the package installs anyway and reads in pure Python."""
import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as err:  # a missing compiler or header: the pure-Python reader still works
            print(f"pcapml: the native module was not built ({err}); the sampler reads in pure Python")


# native/pcapio is a link to the repository's pcapio/: one reader for the C++ tools and Python.
native = Extension("pcapml._native", sorted(glob.glob("native/*.cc")) + ["native/pcapio/reader.cc",
                                                                           "native/pcapio/decompressor.cc"],
                   include_dirs=["native"], language="c++", libraries=["z", "zstd"],
                   extra_compile_args=["-std=c++20", "-O2", "-fvisibility=hidden"])
setup(ext_modules=[native], cmdclass={"build_ext": OptionalBuildExt})
