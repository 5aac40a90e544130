"""Builds the host runtime library (Targets/build host --library: Embedded Swift, needs the
Swift toolchain of the repository) and ships it inside the package as quanta/libquanta.so.
QUANTA_LIBRARY=/path/to/libquanta.so skips the build and ships that file instead."""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        library = os.environ.get("QUANTA_LIBRARY")
        if not library:
            root = os.environ.get("QUANTA_ROOT", os.path.dirname(HERE))
            build = os.path.join(root, "Targets", "build")
            if not os.path.exists(build):
                raise SystemExit(
                    "quanta: cannot build libquanta.so: no Targets/build under %s "
                    "(install from the repository: pip install ./python, or set QUANTA_LIBRARY)" % root)
            subprocess.run([build, "host", "--library"], cwd=root, check=True, stdout=subprocess.DEVNULL)
            library = os.path.join(root, ".build", "targets", "host", "lib", "libquanta.so")
        target = os.path.join(self.build_lib, "quanta")
        os.makedirs(target, exist_ok=True)
        shutil.copyfile(library, os.path.join(target, "libquanta.so"))


setup(cmdclass={"build_py": BuildWithLibrary})
