import subprocess
import sys


def test_usearch_then_onnxruntime_does_not_crash():
    # usearch loaded before onnxruntime used to segfault the process at onnxruntime's import.
    code = (
        "from paperwire.search.ann import usearch_available; assert usearch_available();"
        "import onnxruntime; print('fine')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "fine"
