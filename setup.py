"""Build the Python package glamm_eval with CMake (docs/python.md, "Installing").

    pip install --no-build-isolation --no-index .     # offline, into the active (virtual) environment
    pip wheel --no-build-isolation --no-index .       # a wheel for this platform

setuptools drives the repository's CMake build; nothing is compiled by setuptools itself. build_ext configures
`build-python/` inside the checkout (separate from the `build/` folder of the command line build, so neither
disturbs the other; ccache, when installed, is the compiler launcher as in every CMake build of this project, so
objects already compiled by `build/` come from the cache), builds the target `glamm_python_package` and the plugins,
then copies `build-python/python/glamm_eval/` into the wheel, following its symlinks:

    glamm_eval/*.py                        the Python API (python/glamm_eval/)
    glamm_eval/_core.cpython-*.so          the extension module (python/src/)
    glamm_eval/share/glamm-eval/meteor/    METEOR's English resources (derived from Debian's wordnet-base)
    glamm_eval/libglamm_*.so               the plugins that were built (overlay; bert and runner with libtorch)

setuptools' own folders (build_lib, bdist, egg-info) go into `build-python/setuptools/` too.

Environment:
    GLAMM_WITH_TORCH=ON|OFF      build the libtorch plugins (libglamm_bert.so, libglamm_runner.so) or not; unset:
                                 as CMake detects libtorch (Debian's libtorch-dev). The package itself never loads
                                 libtorch; the plugins are loaded on demand.
    CMAKE_BUILD_PARALLEL_LEVEL   build jobs (default: the number of CPUs).
    GLAMM_CMAKE_ARGS             extra arguments for the CMake configure step (split like a shell would).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
CMAKE_BUILD_DIR = os.path.join(ROOT, "build-python")
SETUPTOOLS_DIR = os.path.join(CMAKE_BUILD_DIR, "setuptools")


def project_version():
    """The VERSION of project() in the top-level CMakeLists.txt (also glamm_eval.__version__)."""
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        text = f.read()
    match = re.search(r"^\s*project\(\s*glamm_eval\s+VERSION\s+([0-9][0-9A-Za-z.]*)", text, re.MULTILINE)
    if not match:
        raise RuntimeError("CMakeLists.txt: no 'project(glamm_eval VERSION x.y.z ...)' line to take the version from")
    return match.group(1)


class CMakeBuild(build_ext):
    """build_ext that builds glamm_eval._core (and the plugins, the METEOR resources) with CMake in build-python/."""

    def run(self):
        if self.inplace:
            raise RuntimeError(
                "glamm-eval: editable/in-place builds are not supported; build the CMake tree and use "
                "PYTHONPATH=build/python, or install with 'pip install --no-build-isolation --no-index .'")
        cmake = shutil.which("cmake")
        if cmake is None:
            raise RuntimeError("glamm-eval: cmake not found (Debian: cmake; scripts/setup.sh --all installs it)")
        self._configure(cmake)
        self._build(cmake)
        self._copy_package()

    def _configure(self, cmake):
        args = [cmake, "-S", ROOT, "-B", CMAKE_BUILD_DIR,
                "-DCMAKE_BUILD_TYPE=Release",
                "-DGLAMM_BUILD_TESTS=OFF", "-DGLAMM_BUILD_BENCH=OFF", "-DGLAMM_BUILD_PYTHON=ON",
                f"-DPython_EXECUTABLE={sys.executable}"]
        if not os.path.exists(os.path.join(CMAKE_BUILD_DIR, "CMakeCache.txt")) and shutil.which("ninja"):
            args += ["-G", "Ninja"]
        torch = os.environ.get("GLAMM_WITH_TORCH", "").strip()
        if torch:
            if torch.upper() not in ("ON", "OFF", "1", "0", "TRUE", "FALSE", "YES", "NO"):
                raise RuntimeError(f"glamm-eval: GLAMM_WITH_TORCH={torch!r}: expected ON or OFF")
            args.append(f"-DGLAMM_WITH_TORCH={torch.upper()}")
        else:
            args.append("-UGLAMM_WITH_TORCH")  # forget an earlier choice: the option defaults to what CMake detects
        args += shlex.split(os.environ.get("GLAMM_CMAKE_ARGS", ""))
        self._run(args)

    def _build(self, cmake):
        # glamm_python_package: the extension, the METEOR resources and every plugin target that exists (the
        # libtorch ones only with GLAMM_WITH_TORCH=ON), python/CMakeLists.txt.
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        self._run([cmake, "--build", CMAKE_BUILD_DIR, "-j", jobs, "--target", "glamm_python_package"])

    def _copy_package(self):
        source = os.path.join(CMAKE_BUILD_DIR, "python", "glamm_eval")
        target = os.path.join(self.build_lib, "glamm_eval")
        core = "_core" + sysconfig.get_config_var("EXT_SUFFIX")
        if not os.path.isfile(os.path.join(source, core)):
            raise RuntimeError(f"glamm-eval: the CMake build made no {core} in {source}")
        # build_lib outlives a build (a plugin of an earlier GLAMM_WITH_TORCH=ON build, a deleted .py): start afresh.
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.makedirs(target)
        for name in sorted(os.listdir(source)):
            src = os.path.join(source, name)
            dst = os.path.join(target, name)
            if name == "__pycache__" or not os.path.exists(src):  # a link to a .py file deleted since configure
                continue
            if name.startswith("_core.") and name != core:  # built earlier for another Python version
                continue
            if os.path.isdir(src):  # share/ -> build-python/share: real files in the wheel, not links
                shutil.copytree(src, dst, symlinks=False,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dst, follow_symlinks=True)

    def _run(self, args):
        print("glamm-eval:", " ".join(shlex.quote(a) for a in args), flush=True)
        subprocess.run(args, check=True)

    def get_outputs(self):
        target = os.path.join(self.build_lib, "glamm_eval")
        if not os.path.isdir(target):
            return []
        return [os.path.join(d, f) for d, _, files in os.walk(target) for f in files]


os.makedirs(SETUPTOOLS_DIR, exist_ok=True)

setup(
    version=project_version(),
    packages=["glamm_eval"],
    package_dir={"glamm_eval": "python/glamm_eval"},
    ext_modules=[Extension("glamm_eval._core", sources=[])],  # built by CMake (CMakeBuild); makes the wheel platform-specific
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
    options={
        # setuptools' folders inside build-python/, never in the build/ folder of the CMake command line build.
        "build": {"build_base": SETUPTOOLS_DIR},
        "egg_info": {"egg_base": SETUPTOOLS_DIR},
    },
)
