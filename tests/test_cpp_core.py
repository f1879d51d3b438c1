"""Build and run the C++ core tests (tests/cpp/test_core.cpp) with CMake.

The build compiles Eigen-heavy headers and takes several minutes, so it runs only
when the environment variable DUALTAPE_CPP_TESTS is 1 and cmake is installed.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
BUILD_DIR = REPOSITORY / "build-cpptests"


@pytest.mark.skipif(os.environ.get("DUALTAPE_CPP_TESTS") != "1",
                    reason="set DUALTAPE_CPP_TESTS=1 to build and run the C++ core tests (takes minutes)")
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_cpp_core():
    configure = subprocess.run(
        ["cmake", "-S", str(REPOSITORY), "-B", str(BUILD_DIR), "-DDUALTAPE_BUILD_PYTHON=OFF",
         "-DDUALTAPE_BUILD_TESTS=ON"], capture_output=True, text=True)
    assert configure.returncode == 0, f"cmake configure failed:\n{configure.stdout}\n{configure.stderr}"

    build = subprocess.run(["cmake", "--build", str(BUILD_DIR), "--target", "dualtape_cpp_tests", "-j1"],
                           capture_output=True, text=True)
    assert build.returncode == 0, f"cmake build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"

    run = subprocess.run([str(BUILD_DIR / "dualtape_cpp_tests")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"C++ core tests failed:\n{run.stdout}\n{run.stderr}"
    assert "checks passed" in run.stdout
