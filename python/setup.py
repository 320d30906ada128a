"""Builds the Python package `lethe` with liblethe inside it.

    pip install ./python      in a virtual environment made with
                              python3 -m venv --system-site-packages (Debian's
                              numpy, matplotlib; no network)
    make python               a wheel in build/python/

The shared library is the one LETHE_LIB names, else the repository's
build/liblethe.so.VERSION, which is built with make when it is missing. It is
copied into the package as lethe/liblethe.so.0, which the package loads
before any other (lethe/__init__.py). The wheel is therefore tagged for this
platform, not "any": the library in it links against the system's OpenBLAS,
LAPACKE, libsodium and zlib.

There is deliberately no pyproject.toml: with one, pip would build in an
isolated environment and download setuptools, which an offline Debian machine
cannot do; without it, pip uses the setuptools and wheel that Debian installs.

SPDX-License-Identifier: GPL-3.0-or-later
"""
import os
import re
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HEADER = os.path.join(ROOT, "include", "lethe.h")
BUNDLED = "liblethe.so.0"


def version():
    try:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        raise SystemExit(f"lethe: {HEADER} not found: build the package from the repository "
                         "(pip install ./python), not from a copy of python/ alone")
    return re.search(r'#define LETHE_VERSION_STRING "([^"]+)"', text).group(1)


def library(ver):
    """The liblethe to bundle: LETHE_LIB, or the repository's build (made if missing)."""
    path = os.environ.get("LETHE_LIB")
    if path:
        if not os.path.isfile(path):
            raise SystemExit(f"lethe: LETHE_LIB={path} is not a file")
        return path
    path = os.path.join(ROOT, "build", f"liblethe.so.{ver}")
    if not os.path.isfile(path):
        print(f"lethe: {path} is missing; running make", flush=True)
        subprocess.run(["make", "-C", ROOT, "all"], check=True)
    return path


class build_py_with_library(build_py):
    """Copies liblethe into the package being built (never into the source tree)."""

    def run(self):
        super().run()
        if not self.dry_run:
            target = os.path.join(self.build_lib, "lethe", BUNDLED)
            shutil.copyfile(library(self.distribution.get_version()), target)
            os.chmod(target, 0o755)


class PlatformDistribution(Distribution):
    """A package that carries a compiled library, installed as platform files."""

    def has_ext_modules(self):
        return True


commands = {"build_py": build_py_with_library}
try:
    from wheel.bdist_wheel import bdist_wheel

    class platform_wheel(bdist_wheel):
        """py3-none-<platform>: any Python 3 (ctypes), this platform's library."""

        def get_tag(self):
            return ("py3", "none", super().get_tag()[2])

    commands["bdist_wheel"] = platform_wheel
except ImportError:  # no wheel: pip falls back to setup.py install
    pass

# setuptools' scratch directories go to the repository's build/, not beside
# this file
SCRATCH = os.path.join(ROOT, "build", "python-setup")
os.makedirs(SCRATCH, exist_ok=True)

setup(
    name="lethe",
    version=version(),
    description="Certified machine unlearning: removal with signed certificates (ctypes over liblethe)",
    license="GPL-3.0-or-later",
    packages=["lethe"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={"report": ["matplotlib"]},
    cmdclass=commands,
    distclass=PlatformDistribution,
    options={"build": {"build_base": SCRATCH}, "egg_info": {"egg_base": SCRATCH}},
    zip_safe=False,
)
