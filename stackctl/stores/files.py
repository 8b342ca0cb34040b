"""Crash-safe file writes: atomic replace for one file, a journal for many.

One file: write a temp file in the same directory, fsync, rename over the
target, fsync the directory. Many files (a multi-file commit in the local
store): first write every new content to temp files, then atomically write a
journal naming each rename/delete, then carry it out and remove the journal.
(A large commit into a directory that does not exist yet, a new store's, writes
that directory whole under a temp name beside it: one rename, not one per file.)
A crash before the journal lands leaves the old state (temp files are swept);
a crash after it is rolled forward by ``recover`` on the next open. So a
reader always sees the state as before or as after, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

T = TypeVar("T")

if TYPE_CHECKING:
    from stackctl.stores import writer_process

JOURNAL_NAME = "journal.json"
TMP_PREFIX = ".stackctl-tmp-"


# The one fault-injection seam: called with a step name before each write step of
# the state (durable writes only: a cache write is not state, and whether it happens
# depends on the files' ages, so counting it would make the steps vary run to run).
# None (inert) in normal use; only tests set it, in-process or through
# tests/crash_launcher.py, to prove every crash point is safe.
fault_hook: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if fault_hook is not None:
        fault_hook(name)


def _fsync_dir(directory: str | Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Temp names: the writer's pid first (a file left by a dead writer is known as such),
# then a random token of this process and a counter: unique without mkstemp's
# per-file random draw (its cost shows when a commit stages 10,000 files).
_TOKEN = uuid.uuid4().hex[:8]
_COUNTER = itertools.count()
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(
    os, "O_NOFOLLOW", 0)


def _parent(path: str | Path) -> str:
    """The directory of ``path`` as a string ("." for a bare file name, like Path.parent)."""
    return os.path.dirname(os.fspath(path)) or "."


def _create_temp(directory: str, mode: int = 0o600) -> tuple[int, str]:
    return _temp_in(directory, lambda name: os.open(name, _CREATE, mode))


def _create_temp_dir(directory: str) -> str:
    return _temp_in(directory, os.mkdir)[1]


def _temp_in(directory: str, make: Callable[[str], T]) -> tuple[T, str]:
    """``make(name)`` for the first free temp name in ``directory``: what it made, and the name."""
    while True:
        name = os.path.join(
            directory, f"{TMP_PREFIX}{os.getpid()}-{_TOKEN}-{next(_COUNTER)}")
        try:
            return make(name), name
        except FileExistsError:  # another process of the same pid and token: next one
            continue


def _umask_spares(mode: int) -> bool:
    """Whether the process's umask leaves ``mode`` whole (read on Linux, never set: setting
    it to read it would race with other threads; elsewhere, False)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8) & mode == 0
    except (OSError, ValueError, IndexError):
        pass
    return False


def write_temp(target: str | Path, data: bytes | Iterable[bytes], *, private: bool = False,
               durable: bool = True, make_parent: bool = True, chmod: bool = True) -> str:
    """Write ``data`` (or its chunks, never joined) to a temp file beside ``target``
    (fsynced if ``durable``), mode 0644 or 0600 (``private``). ``chmod=False``: the
    caller knows the umask spares the mode, so the one given at creation is exact."""
    directory = _parent(target)
    if make_parent:
        os.makedirs(directory, exist_ok=True)
    mode = 0o600 if private else 0o644
    fd, name = _create_temp(directory, mode if not chmod else 0o600)
    _fill(fd, name, data, mode if chmod else None, durable)
    return name


def _write_new(path: str, data: bytes | Iterable[bytes], *, private: bool,
               chmod: bool) -> None:
    """Write ``data`` to a file that must not exist yet (in a staged directory), unsynced."""
    mode = 0o600 if private else 0o644
    _fill(os.open(path, _CREATE, mode if not chmod else 0o600), path, data,
          mode if chmod else None, durable=False)


def _fill(fd: int, name: str, data: bytes | Iterable[bytes], chmod: int | None,
          durable: bool) -> None:
    """Write ``data`` to the new file ``name`` open as ``fd`` and close it; on failure
    the file is removed."""
    try:
        try:
            if chmod is not None:
                os.fchmod(fd, chmod)
            if isinstance(data, bytes):
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            else:
                with os.fdopen(fd, "wb", closefd=False) as handle:
                    handle.writelines(data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def atomic_write(target: Path, data: bytes | Iterable[bytes], *, private: bool = False,
                 durable: bool = True) -> None:
    """Replace ``target`` with ``data`` so readers see old or new, never half.

    ``durable=False`` (caches) skips the fsyncs: atomic, but may be lost in a crash.
    """
    tmp = write_temp(target, data, private=private, durable=durable)
    try:
        if durable:
            _step(f"rename {target.name}")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(target.parent)


BATCH_SYNC_THRESHOLD = 32


def _sync_filesystem(directory: Path) -> None:
    """Flush every dirty page of the filesystem holding ``directory`` (Linux syncfs)."""
    import ctypes

    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = getattr(libc, "syncfs", None)
        if syncfs is None or syncfs(fd) != 0:
            os.sync()  # no syncfs here: the whole machine's, slower but as safe
    finally:
        os.close(fd)


class Rendered(Mapping[str, bytes], Generic[T]):
    """Files whose bytes are made from their sources each time they are read
    (``commit_files`` reads each once), beside ``ready`` ones: it hands the first to its
    helper process while the last are still being made, and no file's bytes outlive
    their writing."""

    def __init__(self, sources: Mapping[str, T], render: Callable[[T], bytes],
                 ready: Mapping[str, bytes] | None = None) -> None:
        self._sources = sources
        self._render = render
        self._ready = ready or {}

    def __getitem__(self, path: str) -> bytes:
        if path in self._ready:
            return self._ready[path]
        return self._render(self._sources[path])

    def __iter__(self) -> Iterator[str]:
        return itertools.chain(self._sources, self._ready)

    def __len__(self) -> int:
        return len(self._sources) + len(self._ready)


def commit_files(
    journal_dir: Path,
    writes: Mapping[str, bytes] | Mapping[Path, bytes],
    deletes: Sequence[str | Path],
    private: Callable[[str], bool] = lambda _p: False,
    trash: Sequence[Path] = (),
    moves: Mapping[Path, Path] | None = None,
    meanwhile: Callable[[], Mapping[str, bytes]] = dict,
) -> None:
    """Apply many file writes and deletes as one crash-safe unit.

    ``private(path)`` (path as a string) tells the files written owner-only.

    ``trash`` directories (a deleted profile's store) go with the commit: each
    is renamed aside, then removed; an interrupted removal is finished by
    ``recover``. ``moves`` rename directories (a renamed profile's store) with the
    commit, before its files land; a move already done is not done again.
    ``meanwhile`` is called once ``writes`` are under way (a helper process may be
    writing them, see below); the files it returns join the commit.
    """
    staged: dict[str, str] = {}
    journal: dict[str, Any] = {
        "renames": staged, "deletes": [os.fspath(p) for p in deletes],
        "trash": {str(d): str(d.with_name(f"{TMP_PREFIX}trash-{uuid.uuid4().hex}"))
                  for d in trash}}
    if moves:  # only then: journals without moves keep their older shape
        journal["moves"] = {str(a): str(b) for a, b in moves.items()}
    # Many files: one filesystem-wide sync before the journal instead of one
    # fsync per file (10,000 fsyncs take many seconds; one syncfs, a fraction).
    batch = len(writes) > BATCH_SYNC_THRESHOLD
    # a umask that spares 0644 (the usual 022): each file gets its mode at creation,
    # without a chmod call per file
    chmod = not (batch and _umask_spares(0o644))
    # Many files into a directory that does not exist yet (a new store's component
    # directories): they are written, under their own names, into a temp directory
    # beside it, which the journal renames into place: one rename for the directory
    # instead of one per file, and a journal that names the directory, not each file.
    # Thousands of them are written by a helper process as they are rendered (``writes``
    # may be ``Rendered``), and while ``meanwhile`` runs here.
    whole: dict[str, str] = {}
    fresh: _NewFiles | None = None
    try:
        new = _new_directories(writes) if batch else set()
        for directory in {_parent(t) for t in writes} - new:
            os.makedirs(directory, exist_ok=True)
        for directory in sorted(new):
            os.makedirs(_parent(directory), exist_ok=True)
            whole[directory] = _create_temp_dir(_parent(directory))
        # counted from the paths alone (``writes`` may render each file as it is read),
        # and only when a directory is staged whole
        fresh = _NewFiles(sum(1 for t in writes if _parent(t) in whole) if whole else 0,
                          chmod)
        for target_path, data in writes.items():
            target = os.fspath(target_path)
            _step(f"stage {os.path.basename(target)}")
            home = whole.get(_parent(target))
            if home is not None:
                fresh.add(os.path.join(home, os.path.basename(target)), data, private(target))
                continue
            tmp = write_temp(target, data, private=private(target), durable=not batch,
                             make_parent=False, chmod=chmod)
            staged[tmp] = target
        fresh.finish()
        for target, data in meanwhile().items():
            _step(f"stage {os.path.basename(target)}")
            tmp = write_temp(target, data, private=private(target), durable=not batch,
                             chmod=chmod)
            staged[tmp] = target
        fresh.wait()
        staged.update((home, directory) for directory, home in whole.items())
        if batch:
            _sync_filesystem(journal_dir)
        _step("journal")
        atomic_write(journal_dir / JOURNAL_NAME, json.dumps(journal).encode())
    except BaseException:
        if fresh is not None:
            fresh.stop()
        if not (journal_dir / JOURNAL_NAME).exists():
            # The journal did not land: the commit never began; leave nothing of it.
            for staged_tmp in staged:
                with contextlib.suppress(OSError):
                    os.unlink(staged_tmp)
            for home in whole.values():
                shutil.rmtree(home, ignore_errors=True)
        raise
    _roll_forward(journal_dir, journal)


# From this many new files on, a helper process writes them (writer_process): below it,
# starting one (~10 ms) costs more than it saves.
HELPER_THRESHOLD = 1000


class _NewFiles:
    """The files of the staged directories. Many (``HELPER_THRESHOLD``): handed to a
    helper process in chunks as they come, so it writes the first while the caller
    still renders the last. Fewer, or no helper here: written by this process at
    ``finish``."""

    CHUNK = 256

    def __init__(self, count: int, chmod: bool) -> None:
        self._chmod = chmod
        self._pending: list[tuple[str, bytes, bool]] = []  # (path, data, private)
        self._writer: writer_process.Writer | None = None
        if count >= HELPER_THRESHOLD:
            from stackctl.stores import writer_process

            if writer_process.can_spawn():
                # a helper that cannot start: the files are written by this process
                with contextlib.suppress(OSError):
                    self._writer = writer_process.Writer()

    def add(self, path: str, data: bytes, private: bool) -> None:
        self._pending.append((path, data, private))
        if self._writer is not None and len(self._pending) >= self.CHUNK:
            self._send(self._writer)

    def finish(self) -> None:
        """Every file was added: the helper is told so, or the files are written here."""
        if self._writer is not None:
            self._send(self._writer)
            self._writer.finish()
            return
        for path, data, private in self._pending:
            _write_new(path, data, private=private, chmod=self._chmod)
        self._pending = []

    def _send(self, writer: writer_process.Writer) -> None:
        def modes(private: bool) -> tuple[int, int]:  # at creation, then by fchmod (0: none)
            mode = 0o600 if private else 0o644
            return (0o600, mode) if self._chmod else (mode, 0)

        writer.send([(path, data, *modes(private)) for path, data, private in self._pending])
        self._pending = []

    def wait(self) -> None:
        if self._writer is not None:
            self._writer.wait()

    def stop(self) -> None:
        if self._writer is not None:
            self._writer.stop()


def _new_directories(writes: Iterable[str | Path]) -> set[str]:
    """The directories written into that do not exist yet and hold no other one written
    into (a directory staged whole must not be the parent of another staged on its own)."""
    directories = {_parent(t) for t in writes}
    new = {d for d in directories if not os.path.lexists(d)}
    return {d for d in new
            if not any(other.startswith(d + os.sep) for other in directories)}


def _roll_forward(journal_dir: Path, journal: Mapping[str, object]) -> None:
    renames = journal.get("renames", {})
    deletes = journal.get("deletes", [])
    moves = journal.get("moves", {})
    assert isinstance(renames, dict)
    assert isinstance(deletes, list)
    assert isinstance(moves, dict)
    touched: set[str] = set()
    for source, target in moves.items():
        _step(f"move {os.path.basename(source)}")
        if os.path.exists(source) and not os.path.exists(target):
            os.rename(source, target)
        touched.add(_parent(target))
    for tmp, target in renames.items():
        _step(f"apply {os.path.basename(target)}")
        try:
            os.replace(tmp, target)
        except FileNotFoundError:  # already moved by an earlier, interrupted run
            if os.path.exists(tmp):
                raise
        except OSError as exc:  # a staged directory whose target appeared meanwhile
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not _real_dir(tmp):
                raise
            _merge_into(tmp, target)
            touched.add(target)
        touched.add(_parent(target))
    for target in deletes:
        _step(f"delete {os.path.basename(target)}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        touched.add(_parent(target))
    trash = journal.get("trash", {})
    assert isinstance(trash, dict)
    for directory, aside in trash.items():
        _step(f"trash {Path(directory).name}")
        if os.path.exists(directory):
            os.rename(directory, aside)
        shutil.rmtree(aside, ignore_errors=True)
        touched.add(_parent(directory))
    for directory in touched:
        if os.path.isdir(directory):
            _fsync_dir(directory)
    _step("clear journal")
    os.unlink(journal_dir / JOURNAL_NAME)
    _fsync_dir(journal_dir)


def _real_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _merge_into(staged: str, target: str) -> None:
    """Move a staged directory's files into ``target`` one by one (a directory made
    there since it was staged, by another program), then remove the staged one."""
    for name in os.listdir(staged):
        os.replace(os.path.join(staged, name), os.path.join(target, name))
    os.rmdir(staged)


def has_temp_files(directory: Path) -> bool:
    """The directory holds a temp file of ours (left by a commit a crash interrupted);
    a missing or unreadable directory holds none. Names only: no glob, no stat."""
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    return any(name.startswith(TMP_PREFIX) for name in names)


def recover(journal_dir: Path, data_dirs: list[Path], *, root: Path,
            may_trash: Callable[[Path], bool] = lambda _p: False,
            may_move: Callable[[Path], bool] | None = None) -> bool:
    """Finish an interrupted commit, or sweep temp files of one that never began.

    The journal is checked whole before anything is touched: only paths inside
    ``root`` (the store being recovered), after resolving symlinks, are renamed
    or deleted; a directory outside it is trashed only if ``may_trash`` says it
    is one stackctl may remove (a deleted profile's own store); a directory
    inside it is moved only if ``may_move`` (default: ``may_trash``) says it is
    one stackctl may move (a renamed profile's store). Returns True when a
    journal was rolled forward.
    """
    journal_path = journal_dir / JOURNAL_NAME
    rolled = False
    if journal_path.exists():
        journal = checked_journal(journal_path, root, may_trash, may_move)
        _roll_forward(journal_dir, journal)
        rolled = True
    for directory in data_dirs:
        if directory.is_dir():
            for leftover in directory.glob(f"{TMP_PREFIX}*"):
                if _real_dir(str(leftover)):  # a directory staged whole (never a link's)
                    shutil.rmtree(leftover, ignore_errors=True)
                    continue
                with contextlib.suppress(OSError):
                    leftover.unlink()
    return rolled


def checked_journal(path: Path, root: Path, may_trash: Callable[[Path], bool],
                    may_move: Callable[[Path], bool] | None = None) -> dict[str, object]:
    """A crash journal, refused unless it has stackctl's shape and stays inside ``root``."""
    from stackctl.errors import ConfigFileError, Location

    def refuse(why: str) -> ConfigFileError:
        return ConfigFileError(
            f"The crash journal {why}; nothing was changed.", location=Location(str(path)),
            hint="stackctl did not write this journal. Inspect it and the store, then remove "
                 "the journal by hand to continue.")

    try:
        journal = json.loads(path.read_bytes())
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror})") from None
    except (ValueError, RecursionError):
        raise refuse("is not valid JSON") from None
    renames, deletes, trash = (journal.get(k) if isinstance(journal, dict) else None
                               for k in ("renames", "deletes", "trash"))
    moves = journal.get("moves", {}) if isinstance(journal, dict) else None
    if not (isinstance(journal, dict)
            and set(journal) - {"moves"} == {"renames", "deletes", "trash"}
            and _str_map(renames) and isinstance(deletes, list)
            and all(isinstance(d, str) for d in deletes) and _str_map(trash)
            and _str_map(moves)):
        raise refuse('is not of the form {"renames": {…}, "deletes": […], "trash": {…}}')
    assert isinstance(renames, dict)
    assert isinstance(trash, dict)
    assert isinstance(moves, dict)
    base = os.path.realpath(root)

    def inside(text: str) -> bool:
        resolved = _resolved(text)
        return resolved is not None and resolved.startswith(base + os.sep)

    for tmp, target in renames.items():
        if not (inside(tmp) and inside(target) and Path(tmp).name.startswith(TMP_PREFIX)
                and _resolved(tmp) and Path(tmp).parent == Path(target).parent):
            raise refuse(f"names a rename outside the store: {_quoted(tmp)} → {_quoted(target)}")
    for source, target in moves.items():
        # a renamed profile's store, beside itself, inside the config directory
        if not (inside(source) and inside(target) and Path(source).parent == Path(target).parent
                and ((may_move or may_trash)(Path(source))
                     or (may_move or may_trash)(Path(target)))):
            raise refuse(f"names a directory stackctl may not move: {_quoted(source)} → "
                         f"{_quoted(target)}")
    for target in deletes:
        if not inside(target):
            raise refuse(f"names a file outside the store: {_quoted(target)}")
    for directory, aside in trash.items():
        sibling = (Path(aside).parent == Path(directory).parent
                   and Path(aside).name.startswith(f"{TMP_PREFIX}trash-"))
        if not (sibling and _resolved(directory) and (inside(directory) or may_trash(
                Path(directory)) or may_trash(Path(aside)))):
            raise refuse(f"names a directory stackctl may not remove: {_quoted(directory)}")
    return journal


def _str_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _resolved(text: str) -> str | None:
    """An absolute path with its directory resolved (the last part is what is touched)."""
    path = Path(text)
    if not path.is_absolute() or path.name in ("", ".", "..") or "\0" in text:
        return None
    return os.path.join(os.path.realpath(path.parent), path.name)


def _quoted(text: str) -> str:
    shown = json.dumps(text)
    return shown if len(shown) <= 120 else shown[:119] + "…"


def sweep_dead_writers(directory: Path) -> None:
    """Remove temp files whose writer died (for files written without a store lock).

    A live writer's temp file is left alone: it is about to be renamed.
    """
    if not directory.is_dir():
        return
    for leftover in directory.glob(f"{TMP_PREFIX}*"):
        pid = leftover.name[len(TMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
