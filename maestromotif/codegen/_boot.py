"""Bootstrap of a sandboxed run (executed by path inside the child; standard library + numpy only).

``python -I -B _boot.py --root DIR [--path P]... [--preload M,...] TARGET [ARGS...]`` preloads the
modules a policy may use, installs an audit hook (:pep:`578`) and runs ``TARGET`` as ``__main__``.
The hook is the second line of defence behind the AST screen: it refuses writes outside ``DIR``,
file-system changes, processes, sockets, ``ctypes`` and imports of system modules. An audit hook
cannot be removed from Python code.
"""

import os
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_REFUSED_EVENTS = (
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill",
    "os.killpg", "subprocess.Popen", "pty.spawn", "socket.__new__", "socket.connect", "socket.bind",
    "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
    "socket.gethostbyaddr", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "ctypes.call_function",
    "os.remove", "os.unlink", "os.rmdir", "os.rename", "os.replace", "shutil.rmtree", "shutil.move",
    "shutil.copyfile", "os.chmod", "os.chown", "os.truncate", "os.link", "os.symlink", "os.utime",
    "os.mkdir", "os.chdir", "os.chroot", "os.setxattr", "os.removexattr", "mmap.__new__",
    "sys.setprofile", "sys.settrace", "webbrowser.open", "urllib.Request",
)
_REFUSED_IMPORT_ROOTS = frozenset({
    "subprocess", "socket", "_socket", "ctypes", "_ctypes", "_posixsubprocess", "multiprocessing",
    "_multiprocessing", "shutil", "urllib", "http", "ftplib", "smtplib", "ssl", "_ssl", "asyncio",
    "pty", "fcntl", "mmap", "resource", "pickle", "_pickle", "marshal", "webbrowser", "telnetlib",
    "xmlrpc", "socketserver", "select", "selectors", "signal", "_signal", "threading", "_thread",
    "concurrent", "importlib", "zipimport", "tempfile", "glob", "sqlite3", "_sqlite3", "dbm",
})

_DROPPED = frozenset({"ctypes", "_ctypes", "subprocess", "_posixsubprocess", "socket", "_socket", "shutil",
                      "pickle", "_pickle", "multiprocessing", "tempfile", "mmap", "fcntl", "pty", "ssl", "_ssl"})


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any((path + os.sep).startswith(p) for p in prefixes)


def _install_hook(root: str, readable: list[str]) -> None:
    inside = (root.rstrip(os.sep) + os.sep,)
    # reading is allowed where Python and the allowed modules live, so a trace sent to a remote LLM
    # cannot carry the contents of other files
    read_ok = tuple(sorted({os.path.realpath(p).rstrip(os.sep) + os.sep for p in [root, *readable] if p}))
    busy = [False]

    def refuse(what: str) -> None:
        raise PermissionError(f"sandbox: {what} is not allowed")

    def hook(event: str, args: tuple) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            if event == "open":
                path, mode, flags = (tuple(args) + (None, None, None))[:3]
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & _WRITE_FLAGS)
                if not isinstance(path, int):
                    real = os.path.realpath(os.fsdecode(path))
                    if writing and not _under(real, inside):
                        refuse(f"writing '{real}' (outside the sandbox directory)")
                    if not writing and not _under(real, read_ok):
                        refuse(f"reading '{real}' (outside the sandbox and Python's own directories)")
            elif event == "import":
                name = str(args[0]) if args else ""
                if name.split(".")[0] in _REFUSED_IMPORT_ROOTS:
                    refuse(f"importing '{name}'")
            elif event.startswith(_REFUSED_EVENTS):
                refuse(f"'{event}'")
        finally:
            busy[0] = False

    sys.addaudithook(hook)


def main() -> None:
    argv = sys.argv[1:]
    root, paths, preload = None, [], []
    while argv and argv[0].startswith("--"):
        flag, value, argv = argv[0], argv[1], argv[2:]
        if flag == "--root":
            root = value
        elif flag == "--path":
            paths.append(value)
        elif flag == "--preload":
            preload.extend(m for m in value.split(",") if m)
    target, args = argv[0], argv[1:]
    sys.path[:0] = paths
    import linecache  # noqa: F401  (all of these load before the hook: later imports are audited)
    import runpy
    import traceback
    for name in ("random", "math", "collections", "collections.abc", "itertools", "functools", "re",
                 "heapq", "statistics", "string", "copy", "dataclasses", "enum", "abc", "bisect",
                 "typing", "json", "numpy", *preload):
        try:
            __import__(name)
        except ImportError:
            pass
    readable = [*paths, *sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/lib",
                "/lib64", "/dev/null", "/dev/urandom", "/proc/self"]
    # modules the preloads pulled in (numpy imports ctypes) are dropped, so importing them again is
    # an audited import, refused; the preloaded modules keep their own references
    for name in [m for m in sys.modules if m.split(".")[0] in _DROPPED]:
        del sys.modules[name]
    _install_hook(os.path.realpath(root or os.getcwd()), readable)
    sys.argv = [target, *args]
    try:
        runpy.run_path(target, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as e:  # report the error without this bootstrap's own frames
        frames = [f for f in traceback.extract_tb(e.__traceback__)
                  if f.filename != __file__ and not f.filename.startswith("<frozen")]
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
                         + "".join(traceback.format_exception_only(type(e), e)))
        sys.exit(1)


if __name__ == "__main__":
    main()
