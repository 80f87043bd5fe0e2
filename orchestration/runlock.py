"""One run at a time writes the warehouse, whatever started it, and a crashed run is cleaned up by the next.

Every entry point goes through `hold_run_lock`: the CLI (`land`, `demo`, `dbt`) before it starts the
Dagster run, and every Dagster run (schedule, sensor, UI) through the `run_lock` resource that each
asset and check requires. The lock is an exclusive `flock` on `<data folder>/run.lock`: the kernel
releases it when the holder dies, however it dies (`kill -9` included), so a lock is never stale.
The file itself names the holder (pid, run id, command, a token); the holder empties it on release.

A lock found free but with a holder still named in the file means that run crashed. The next run (or
the sensor, or the schedule) then recovers before it starts: it kills the processes the dead run
started (its dbt build, found by the token in their environment, since they outlive their parent),
marks the dead Dagster run failed, and says so. It rebuilds everything it publishes, so nothing of
the dead run's half-done work reaches BI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings import Settings

TOKEN_ENV = "ALT911_RUN_TOKEN"  # set for the holder's children, so a crash's leftovers can be found


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse and did not finish within the wait."""


class NotAudited(RuntimeError):
    """Publishing was asked for warehouse contents this run did not build and audit."""


@dataclass
class _Held:
    path: Path
    fd: int
    info: dict
    written_stamp: tuple | None = None  # the warehouse file as this run's last write left it
    recovered: list[str] = field(default_factory=list)


_HELD: dict[Path, _Held] = {}  # lock file -> this process's hold (re-entrant: the CLI, then the run inside it)


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / "run.lock"


def holder(settings: Settings) -> dict | None:
    """Who holds the warehouse now (pid, run id, command, since), or None when no run does."""
    path = lock_path(settings)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_info(path) or {"pid": "?", "run_id": "?", "command": "?", "started_at": "?"}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_info(path: Path) -> dict | None:
    try:
        text = path.read_text()
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


def describe(info: dict) -> str:
    return (
        f"run {info.get('run_id') or '(starting)'} (pid {info.get('pid')} on {info.get('host')}, "
        f"`{info.get('command')}`, since {info.get('started_at')})"
    )


@contextmanager
def hold_run_lock(
    settings: Settings,
    run_id: str | None = None,
    instance=None,
    wait_seconds: float | None = None,
    log: Callable[[str], None] = print,
):
    """Hold the warehouse for one run. Waits up to `wait_seconds` (default: the run_lock_wait_seconds
    setting) for a running run, logging who holds it, then raises WarehouseBusy. Re-entrant in one process."""
    path = lock_path(settings)
    held = _HELD.get(path)
    if held is not None:  # the CLI took it; the Dagster run inside the same process records its id
        if run_id and not held.info.get("run_id"):
            held.info["run_id"] = run_id
            _write_info(held.fd, held.info)
        yield held
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, settings, wait_seconds, log)
    except BaseException:
        os.close(fd)
        raise
    try:
        held = _Held(path, fd, info={})
        stale = _read_info(path)
        if stale:
            held.recovered = recover(stale, instance)
            log("recovered from a crashed run: " + "; ".join(held.recovered))
        held.info = dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            run_id=run_id,
            token=uuid.uuid4().hex,
            command=" ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))[:200],
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        _write_info(fd, held.info)
        previous_token = os.environ.get(TOKEN_ENV)
        os.environ[TOKEN_ENV] = held.info["token"]
        _HELD[path] = held
        try:
            yield held
        finally:
            del _HELD[path]
            if previous_token is None:
                os.environ.pop(TOKEN_ENV, None)
            else:
                os.environ[TOKEN_ENV] = previous_token
            os.ftruncate(fd, 0)  # a clean end: nothing to recover
    finally:
        os.close(fd)  # releases the flock


def _acquire(fd: int, path: Path, settings: Settings, wait_seconds: float | None, log) -> None:
    wait = settings.run_lock_wait_seconds if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    next_note = 0.0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        info = _read_info(path) or {}
        now = time.monotonic()
        if now >= deadline:
            raise WarehouseBusy(
                f"another run is writing the warehouse {settings.warehouse_path}: {describe(info)}. Nothing was "
                f"done; waited {wait:.0f} s ({settings.setting_name('run_lock_wait_seconds')}). Run again when "
                "it ends (`python -m orchestration status` shows it)."
            )
        if now >= next_note:
            log(
                f"waiting for {describe(info)} to finish writing the warehouse "
                f"(up to {max(0.0, deadline - now):.0f} s more)"
            )
            next_note = now + 30
        time.sleep(min(1.0, max(0.05, deadline - now)))


def _write_info(fd: int, info: dict) -> None:
    data = json.dumps(info).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _short(cmd: str) -> str:
    """A command as a message shows it: programs by name, not by path (`python dbt build ...`)."""
    return " ".join(word.rsplit("/", 1)[-1] if word.startswith("/") else word for word in cmd.split())[:80]


def recover(stale: dict, instance=None) -> list[str]:
    """Clean up after a run that died holding the warehouse: its leftover processes and its Dagster run."""
    notes = [f"{describe(stale)} ended without releasing the warehouse (killed or crashed)"]
    leftovers = processes_with_token(stale.get("token"))
    for pid, _cmd in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 15
    while leftovers and time.monotonic() < deadline and any(_alive(pid) for pid, _ in leftovers):
        time.sleep(0.1)
    if leftovers:
        notes.append("stopped its leftover process(es): " + ", ".join(f"pid {p} ({_short(c)})" for p, c in leftovers))
    run_id = stale.get("run_id")
    if instance is not None and run_id:
        notes.extend(_fail_dagster_run(instance, run_id))
    notes.append("this run rebuilds and re-audits everything before it publishes")
    return notes


def _fail_dagster_run(instance, run_id: str) -> list[str]:
    import dagster as dg

    run = instance.get_run_by_id(run_id)
    if run is None or run.is_finished:
        return []
    instance.report_run_failed(
        run, message="the run's process died while holding the warehouse; marked failed by the next run"
    )
    # a step pool slot it may have held (older dagster.yaml files configured pools); storages without
    # pools have nothing to free
    with contextlib.suppress(Exception):
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    status = instance.get_run_by_id(run_id).status
    return [f"marked its Dagster run {run_id} {status.value if isinstance(status, dg.DagsterRunStatus) else status}"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waits for a parent that is gone: as good as dead
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def processes_with_token(token: str | None) -> list[tuple[int, str]]:
    """(pid, command line) of the processes (not this one) whose environment carries the run token: what a
    run started."""
    if not token:
        return []
    needle = f"{TOKEN_ENV}={token}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                found.append((int(proc.name), cmd))
        except OSError:  # gone, or not ours
            continue
    return found


def recover_if_crashed(settings: Settings, instance=None, log: Callable[[str], None] = print) -> list[str]:
    """For the sensor and the schedule: when no run holds the warehouse but a crashed one is still named,
    recover now, so a dead run does not keep Dagster's run queue waiting."""
    path = lock_path(settings)
    if path in _HELD or not path.exists() or not _read_info(path):
        return []
    try:
        with hold_run_lock(settings, instance=instance, wait_seconds=0, log=log) as held:
            return held.recovered
    except WarehouseBusy:
        return []  # a live run holds it


# ------------------------------------------------------------------ publish only what was audited


def _stamp(settings: Settings) -> tuple:
    parts = []
    for p in (settings.warehouse_path, Path(f"{settings.warehouse_path}.wal")):
        st = p.stat() if p.exists() else None
        parts.append((st.st_ino, st.st_size, st.st_mtime_ns) if st else None)
    return tuple(parts)


def record_warehouse_written(settings: Settings) -> None:
    """Called after this run's last write to the warehouse (the metrics dbt build); the gates that follow
    only read it."""
    held = _HELD.get(lock_path(settings))
    if held is not None:
        held.written_stamp = _stamp(settings)


def assert_audited(settings: Settings) -> None:
    """Refuse to publish unless this run built the marts and the warehouse is byte for byte what its gates read."""
    held = _HELD.get(lock_path(settings))
    if held is None or held.written_stamp is None:
        raise NotAudited(
            "publishing copies only marts this run built and audited: materialize the serving "
            "copy together with the marts (main_job), not on its own"
        )
    if _stamp(settings) != held.written_stamp:
        raise NotAudited(
            f"the warehouse {settings.warehouse_path} changed after this run's gates read it "
            "(written outside the run lock?); nothing was published"
        )
