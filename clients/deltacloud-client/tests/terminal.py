"""Running the ``deltacloud`` command: as a plain subprocess, or on a pseudo terminal (pty)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DELTACLOUD = str(Path(sys.executable).with_name("deltacloud"))
TIMEOUT = 120.0


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(args: Sequence[str], env: Mapping[str, str], *, stdin: bytes | None = None) -> Result:
    done = subprocess.run([DELTACLOUD, *args], env=dict(env), input=stdin, capture_output=True, timeout=TIMEOUT,
                          check=False)
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


def run_on_pty(args: Sequence[str], env: Mapping[str, str], *, answers: Mapping[str, str] | None = None,
               columns: int = 120) -> Result:
    """Run with stdin, stdout and stderr on a pty; each ``answers`` prompt seen is answered once."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([DELTACLOUD, *args], env={**env, "TERM": "xterm-256color"}, stdin=slave,
                               stdout=slave, stderr=slave, close_fds=True, start_new_session=True)
    os.close(slave)
    pending = dict(answers or {})
    seen = b""
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and process.poll() is not None:
                    break
                seen += chunk
                for prompt, answer in list(pending.items()):
                    if prompt.encode() in seen:
                        os.write(master, answer.encode() + b"\r")
                        del pending[prompt]
            elif process.poll() is not None:
                break
            assert time.monotonic() < deadline, f"deltacloud {' '.join(args)} still running:\n{seen.decode()[-2000:]}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        os.close(master)
    return Result(process.returncode, seen.decode("utf-8", "replace"), "")
