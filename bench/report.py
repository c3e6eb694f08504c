"""The results table: printed to the terminal and written as Markdown in bench/results/."""

from pathlib import Path

from bench.harness import Row, Run, fmt_int, machine

HEADER = ("figure", "database", "measured", "anchor", "ratio", "target", "met", "note")


def _met(row: Row) -> str:
    return "" if row.met is None else ("yes" if row.met else "NO")


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.figure,
        row.database,
        row.measured,
        row.anchor,
        row.ratio,
        row.target,
        _met(row),
        row.note,
    )


def text_table(rows: list[Row]) -> str:
    """A plain aligned table for the terminal."""
    lines = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in rendered)


def markdown(run: Run) -> str:
    """The results file: machine, date, commit, versions, then the table."""
    info = machine()
    load_after = run.load_after or run.load_before
    parts = [
        f"# csudesk benchmarks, {fmt_int(run.voters)} voters",
        "",
        f"- date: {run.started:%Y-%m-%d %H:%M} UTC",
        f"- commit: {run.commit_id}",
        f"- machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['system']}",
        f"- Python {info['python']}; " + "; ".join(run.versions.values()),
        "- load average (1, 5, 15 min) at start: "
        + ", ".join(f"{x:.2f}" for x in run.load_before)
        + "; at end: "
        + ", ".join(f"{x:.2f}" for x in load_after),
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in run.rows:
        parts.append("| " + " | ".join(cell.replace("|", "\\|") for cell in _cells(row)) + " |")
    if run.missing:
        parts += ["", "Not measured in this run:", ""]
        parts += [f"- {item}" for item in run.missing]
    parts += [
        "",
        "Anchors, measured in the same run on the same data: roll import, the same file"
        " bulk-loaded into one table with its unique e-mail index (sqlite3 executemany in one"
        ' transaction; PostgreSQL COPY), beside which "the database\'s share alone" is the'
        " import's own rows written raw into its tables with every index in place (a first"
        " load builds its secondary indexes after the rows and can go below it); the"
        " import's CPU time counts its process only, with the start-up any flask command"
        " pays; name search, an exact prefix of the folded last name on"
        " the (csu_id, last_name_key) index through the raw driver; outbox, smtplib sending the"
        " same rendered messages to the same sink over one connection; desk lookup, a bare Flask"
        " route in the same gunicorn (2 workers) and wrk (8 connections) set-up, one indexed"
        " query through the raw driver and a precompiled Jinja template (bench/anchor_app.py),"
        " and the page's same-work anchor in that set-up, its statements, audit append (HMAC"
        " chain) and template through the raw driver and a bare Flask app, serving the same"
        " HTML (bench/anchor_voter_page.py), also measured in one process beside the page;"
        " contact form, the same POST bodies and headers to a bare POST route of that app;"
        " CSV export, csv.writer over a plain cursor on the export's query through the raw"
        " driver (a server-side cursor on PostgreSQL), in a subprocess (bench/anchor_export.py).",
        "",
    ]
    return "\n".join(parts)


def write(run: Run, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.started:%Y-%m-%d-%H%M}-{run.voters}-voters.md"
    path.write_text(markdown(run), encoding="utf-8")
    return path
