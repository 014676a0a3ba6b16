"""The sandbox runner: time limits, output caps, the audit hook, the network namespace.

These run code that the AST screen would refuse, to show the second line of defence on its own.
"""

import socket
import subprocess
import sys
import threading
import time

import pytest

from maestromotif.codegen import sandbox
from maestromotif.codegen.sandbox import Limits, run_python


def run(code, **kw):
    return run_python("execution.py", files={"execution.py": code}, **kw)


def test_ok_run_captures_stdout_and_may_write_in_its_temp_dir():
    r = run("import numpy as np\nopen('x.txt', 'w').write('hi')\nprint(open('x.txt').read(), np.arange(3).sum())")
    assert r.ok and r.stdout == "hi 3\n" and r.reason() == ""


def test_an_endless_loop_is_killed_at_the_timeout():
    t0 = time.perf_counter()
    r = run("while True:\n    pass\n", limits=Limits(timeout_s=1.0))
    assert r.status == "timeout" and "did not finish" in r.reason()
    assert time.perf_counter() - t0 < 10


def test_an_exception_is_reported_without_the_bootstrap_frames():
    r = run("def f():\n    return 1 / 0\nf()\n")
    assert r.status == "error" and "ZeroDivisionError" in r.reason() and "_boot.py" not in r.stderr


def test_a_print_loop_hits_the_output_cap():
    r = run("while True:\n    print('x' * 1000)\n", limits=Limits(timeout_s=20, output_mb=1))
    assert r.status == "error" and len(r.stdout) <= Limits().max_chars + 200


def test_audit_hook_refuses_writes_outside_reads_outside_deletes_processes(tmp_path):
    sentinel = tmp_path / "keep.txt"
    sentinel.write_text("precious")
    attempts = {
        "write": f"open({str(sentinel)!r}, 'w').write('gone')",
        "delete": f"import os\nos.remove({str(sentinel)!r})",
        "read": f"print(open({str(sentinel)!r}).read())",
        "process": "import os\nos.system('touch /tmp/maestromotif-pwned')",
        "subprocess": "import subprocess",
        "socket": "import socket",
        "ctypes": "import ctypes",
    }
    for name, code in attempts.items():
        r = run(code)
        assert r.status == "error" and "sandbox:" in r.stderr, (name, r.stderr)
    assert sentinel.read_text() == "precious"


def test_memory_limit():
    r = run("x = bytearray(6 * 2**30)\n", limits=Limits(memory_mb=2048))
    assert r.status == "error" and "MemoryError" in r.stderr


@pytest.mark.skipif(sandbox._netns_flags() == 0, reason="this machine does not allow a private network namespace")
def test_network_namespace_blocks_connections_to_localhost():
    # a server in our namespace; a child in the sandbox's namespace cannot reach it even without the hook
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    threading.Thread(target=lambda: srv.accept(), daemon=True).start()
    probe = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\nprint('connected')"
    unsandboxed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert "connected" in unsandboxed.stdout  # the server is reachable from here
    boxed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30,
                           preexec_fn=sandbox._preexec(Limits(), sandbox._netns_flags()))
    assert boxed.returncode != 0 and "connected" not in boxed.stdout
    srv.close()
    assert "network namespace" in sandbox.isolation()
