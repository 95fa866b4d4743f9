"""Content-addressed storage for the files the grader keeps: sources, submissions, feedback.

A blob is stored once under the SHA-256 of its bytes, so identical files (the same data
file in every submission) cost nothing twice and a stored blob can never change. A *tree*
is a set of named files, stored as a JSON manifest blob ``{"files": {path: sha}}``; its
hash identifies a whole submission or release.

The directory store is the default; another backend (an object store) implements the
same methods of BlobStore (put, get, exists, stored, delete; size has a slow default).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class BlobNotFound(KeyError):
    """A blob the database refers to is missing from the store (a lost or unshared volume)."""


class BlobStore:
    """Where blobs live. Subclasses implement put/get/exists; trees come for free."""

    def put(self, data: bytes) -> str:
        raise NotImplementedError

    def get(self, sha: str) -> bytes:
        raise NotImplementedError

    def exists(self, sha: str) -> bool:
        raise NotImplementedError

    def stored(self) -> Iterator[tuple[str, int, float]]:
        """Every blob as (sha, size in bytes, time stored), for garbage collection."""
        raise NotImplementedError

    def size(self, sha: str) -> int:
        """Bytes of one stored blob (BlobNotFound if it is missing)."""
        return len(self.get(sha))

    def delete(self, sha: str) -> None:
        raise NotImplementedError

    def put_tree(self, files: dict[str, bytes]) -> str:
        """Store files (relative path -> bytes) and return the hash of their manifest."""
        manifest = {path: self.put(data) for path, data in sorted(files.items())}
        return self.put(json.dumps({"files": manifest}, sort_keys=True).encode())

    def tree_manifest(self, tree: str) -> dict[str, str]:
        return json.loads(self.get(tree))["files"]

    def get_tree(self, tree: str) -> dict[str, bytes]:
        return {path: self.get(sha) for path, sha in self.tree_manifest(tree).items()}

    def materialize(self, tree: str, dest: str | os.PathLike) -> Path:
        """Write the files of a tree under dest (created), for the engine to read."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for path, sha in self.tree_manifest(tree).items():
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.get(sha))
        return dest


class DirectoryBlobStore(BlobStore):
    """Blobs as files under root/ab/cdef...; writes are atomic (temp file + rename)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha: str) -> Path:
        if len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
            raise BlobNotFound(sha)
        return self.root / sha[:2] / sha[2:]

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if path.exists():
            return sha
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return sha

    def get(self, sha: str) -> bytes:
        try:
            return self._path(sha).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(
                f"blob {sha} is missing from {self.root}: do all grader processes share "
                "the same blob_dir?"
            ) from None

    def size(self, sha: str) -> int:
        try:
            return self._path(sha).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"blob {sha} is missing from {self.root}") from None

    def exists(self, sha: str) -> bool:
        try:
            return self._path(sha).exists()
        except BlobNotFound:
            return False

    def stored(self) -> Iterator[tuple[str, int, float]]:
        for folder in sorted(self.root.iterdir()):
            if len(folder.name) != 2 or not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.startswith("."):
                    continue  # an upload being written (.incoming-*)
                st = path.stat()
                yield folder.name + path.name, st.st_size, st.st_mtime

    def delete(self, sha: str) -> None:
        try:
            self._path(sha).unlink()
        except FileNotFoundError:
            pass
