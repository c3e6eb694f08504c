"""Streaming CSV input shared by the roll and directory imports."""

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from csudesk.text import fold

MAX_KEPT_REJECTS = 1000


class CountingReader(io.RawIOBase):
    """Wraps a binary file and counts the bytes read, for progress reporting."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n


def _detect_encoding(raw: BinaryIO) -> str:
    head = raw.read(65536)
    raw.seek(0)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sample is not an error.
        if exc.start < len(head) - 4:
            return "cp1252"
    return "utf-8-sig"


@dataclass
class CSVSource:
    """An open CSV file: rows as dicts keyed by canonical column names, with line numbers."""

    path: str
    columns: dict[str, str]  # canonical name -> header as written in the file
    reader: Any  # a csv.reader, started after the header line
    header: list[str]
    counter: CountingReader
    total_bytes: int
    handle: BinaryIO
    delimiter: str

    @property
    def names(self) -> list[str]:
        """The canonical names of the columns found, in the order of records()' values."""
        return list(self.columns)

    def records(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """(line, the found columns' values stripped, in the order of `names`); blank lines
        skipped. A tuple costs half of a dict per line: an unchanged re-import of the roll
        makes a dict only of the lines that changed."""
        index = [self.header.index(col) for col in self.columns.values()]
        width = len(self.header)
        reader = self.reader
        for row in reader:
            # Joined, the cells are blank exactly when each of them is.
            if not "".join(row).strip():
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            # The reader counts its lines from after the header.
            yield reader.line_num + 1, tuple([row[i].strip() for i in index])

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        names = self.names
        for line, values in self.records():
            yield line, dict(zip(names, values, strict=True))

    def close(self) -> None:
        self.handle.close()


class CSVFormatError(ValueError):
    """The file cannot be read at all (missing columns, empty file); message in French."""


def canonical_header(name: str) -> str:
    return fold(name).replace(" ", "_")


def open_csv(
    path: str, known_columns: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> CSVSource:
    """Open a ';' (or ',') separated file and match its header case- and accent-insensitively."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by CSVSource.close
    try:
        encoding = _detect_encoding(handle)
        counter = CountingReader(handle)
        text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding=encoding, newline="")
        first = text.readline()
        if not first.strip():
            raise CSVFormatError("Le fichier est vide ou sa première ligne n'est pas un en-tête.")
        delimiter = ";" if first.count(";") >= first.count(",") else ","
        header = next(csv.reader([first], delimiter=delimiter))
        by_canonical = {canonical_header(h): h for h in header}
        columns: dict[str, str] = {}
        for name, variants in known_columns.items():
            for variant in variants:
                if canonical_header(variant) in by_canonical:
                    columns[name] = by_canonical[canonical_header(variant)]
                    break
        missing = [name for name in required if name not in columns]
        if missing:
            wanted = ", ".join(known_columns[name][0] for name in missing)
            raise CSVFormatError(
                f"Colonnes manquantes dans l'en-tête : {wanted}. En-tête lu : {';'.join(header)}"
            )
        reader = csv.reader(text, delimiter=delimiter)
    except Exception:
        handle.close()
        raise
    return CSVSource(
        path, columns, reader, header, counter, os.path.getsize(path), handle, delimiter
    )


@dataclass
class ImportReport:
    """Counts of an import and the rejected lines (the first MAX_KEPT_REJECTS kept in memory)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)
    on_reject: Callable[[int, str], None] | None = None

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_KEPT_REJECTS:
            self.rejects.append((line, reason))
        if self.on_reject is not None:
            self.on_reject(line, reason)
