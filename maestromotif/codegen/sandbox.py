"""Run untrusted Python in a subprocess: temp dir, time limit, resource limits, no network.

What isolates a run (see :func:`isolation`):

- a fresh temporary directory as working directory (deleted afterwards); stdout/stderr go to files
  outside it, capped by ``RLIMIT_FSIZE`` so a print loop cannot fill the disk or memory;
- a wall-clock timeout that kills the whole process group, plus ``RLIMIT_CPU``/``RLIMIT_AS``/
  ``RLIMIT_NOFILE``/``RLIMIT_CORE``;
- ``python -I -B`` with a minimal environment (no proxies, tokens, ``PYTHON*`` variables);
- a network namespace of its own (``unshare(CLONE_NEWNET)``, or with ``CLONE_NEWUSER`` when not
  root) where the OS allows it: only a down loopback device, so no connection can be made;
- an audit hook installed by ``_boot.py`` before the code runs, refusing writes outside the temp
  dir, reads outside Python's directories, processes, sockets, ``ctypes`` and system imports.

The AST screen (:mod:`.screen`) runs first; this is the second line. Nothing here is a hardened
security boundary against a determined attacker (no seccomp, no separate user), and the README
says so: it keeps well-meaning but wrong LLM code from doing damage and a hostile snippet from
getting far.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

BOOT = Path(__file__).with_name("_boot.py")
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000


@dataclass
class Limits:
    timeout_s: float = 10.0
    memory_mb: int = 4096
    output_mb: int = 8  # largest file (stdout, stderr, any file) the code may write
    max_chars: int = 20_000  # of stdout/stderr kept (head and tail)


@dataclass
class RunResult:
    status: str  # "ok" | "error" | "timeout"
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    isolation: str
    files: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def reason(self) -> str:
        """One paragraph for a log or an LLM: what went wrong (empty when ok)."""
        if self.status == "timeout":
            return f"the code did not finish within {self.timeout_s:.1f} s (an endless loop?) and was killed"
        if self.status == "error":
            rc = self.returncode
            if rc is not None and rc < 0:
                sig = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
                extra = {"SIGXFSZ": " (it wrote more output than allowed)",
                         "SIGXCPU": " (it used too much CPU time)",
                         "SIGKILL": " (killed, e.g. out of memory)"}.get(sig, "")
                return f"the code was killed by {sig}{extra}"
            tail = self.stderr.strip().splitlines()[-12:]
            extra = " (it wrote more output than allowed)" if "File too large" in self.stderr else ""
            return f"the code exited with status {rc}{extra}:\n" + "\n".join(tail)
        return ""


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def _preexec(limits: Limits, netns_flags: int):
    cpu = int(limits.timeout_s) + 2
    mem = limits.memory_mb * 2**20
    fsize = limits.output_mb * 2**20
    libc = _libc()

    def fn() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        if netns_flags and libc is not None and libc.unshare(netns_flags) != 0:
            raise OSError(ctypes.get_errno(), "unshare failed")

    return fn


@functools.lru_cache(maxsize=1)
def _netns_flags() -> int:
    """Which unshare() flags give this process tree a private network namespace (0: none)."""
    if not sys.platform.startswith("linux") or _libc() is None:
        return 0
    candidates = [_CLONE_NEWNET] if os.geteuid() == 0 else []
    candidates.append(_CLONE_NEWUSER | _CLONE_NEWNET)
    for flags in candidates:
        try:
            r = subprocess.run([sys.executable, "-I", "-c", "pass"], preexec_fn=_preexec(Limits(), flags),
                               capture_output=True, timeout=30)
            if r.returncode == 0:
                return flags
        except (subprocess.SubprocessError, OSError):
            continue
    return 0


def isolation() -> str:
    """Human-readable description of the isolation this machine gives a sandboxed run."""
    flags = _netns_flags()
    net = ("private network namespace" + (" (user namespace)" if flags & _CLONE_NEWUSER else "")
           if flags else "NO network namespace (unshare not permitted here; the audit hook still refuses sockets)")
    return f"subprocess + temp dir + timeout + rlimits + audit hook + {net}"


def _clean_env(tmp: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _read_capped(path: Path, max_chars: int) -> str:
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace")
    if len(text) <= max_chars:
        return text
    half = max_chars // 2
    return text[:half] + f"\n... [{len(text) - max_chars} characters cut] ...\n" + text[-half:]


def run_python(main: str, *, files: Mapping[str, str] | None = None, args: Iterable[str] = (),
               limits: Limits | None = None, sys_path: Iterable[str | Path] = (),
               preload: Iterable[str] = (), collect: Iterable[str] = ()) -> RunResult:
    """Run the file ``main`` (a name in ``files``, written into a fresh temp dir) in the sandbox.

    ``files``: name -> text written into the temp dir first. ``sys_path``: directories prepended to
    ``sys.path`` (e.g. the repository, for the validation harness). ``collect``: files the code
    writes in its temp dir that are read back into ``RunResult.files``.
    """
    limits = limits or Limits()
    flags = _netns_flags()
    work = tempfile.mkdtemp(prefix="maestromotif-sandbox-")
    logs = tempfile.mkdtemp(prefix="maestromotif-sandbox-out-")
    try:
        for name, text in (files or {}).items():
            (Path(work) / name).write_text(text, encoding="utf-8")
        cmd = [sys.executable, "-I", "-B", str(BOOT), "--root", work]
        for p in sys_path:
            cmd += ["--path", str(p)]
        if preload:
            cmd += ["--preload", ",".join(preload)]
        cmd += [str(Path(work) / main), *args]
        out_path, err_path = Path(logs) / "stdout", Path(logs) / "stderr"
        t0 = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=work, env=_clean_env(work), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, start_new_session=True,
                                    preexec_fn=_preexec(limits, flags))
            try:
                rc = proc.wait(timeout=limits.timeout_s)
                status = "ok" if rc == 0 else "error"
            except subprocess.TimeoutExpired:
                rc, status = None, "timeout"
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the whole group, grandchildren included
                proc.wait()
        seconds = time.perf_counter() - t0
        collected = {}
        for name in collect:
            p = Path(work) / name
            if p.is_file():
                collected[name] = p.read_text(encoding="utf-8", errors="replace")
        return RunResult(status, rc, _read_capped(out_path, limits.max_chars),
                         _read_capped(err_path, limits.max_chars), seconds, isolation(), collected, limits.timeout_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
