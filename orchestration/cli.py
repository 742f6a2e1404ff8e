"""The `retention` command: generate demo data, run the pipeline, look at the warehouse."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click
import duckdb

from orchestration.runs.lock import MAX_WAIT_SECONDS, Holder, WarehouseBusy, current_holder, writer_lock
from orchestration.settings import PROJECT_ROOT, Settings, validated_as_of_date, validated_currency

# Exceptions a user can act on; anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, OSError, duckdb.Error, WarehouseBusy)


def settings_with(as_of_date: str | None = None, wait: float | None = None, currency: str | None = None) -> Settings:
    """Return the environment's settings, with the as-of date, the lock wait and the currency overridden when given."""
    settings = Settings.from_env()
    if as_of_date:
        settings = dataclasses.replace(settings, as_of_date=validated_as_of_date(as_of_date))
    if currency:
        settings = dataclasses.replace(settings, reporting_currency=validated_currency(currency))
    if wait is not None:
        settings = dataclasses.replace(settings, lock_wait_seconds=wait)
    return settings


def stop_on_sigterm() -> None:
    """Treat SIGTERM (a deploy, `kill`, a supervisor) like Ctrl-C: the run stops its step, records that it
    failed and releases the warehouse, instead of vanishing mid-step."""
    signal.signal(signal.SIGTERM, lambda *_: os.kill(os.getpid(), signal.SIGINT))


def echo_progress(message: str) -> None:
    """Print a progress line."""
    click.echo(f"  {message}")


class FriendlyGroup(click.Group):
    """A command group that reports user errors in one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; turn a user error into `error: ...` and exit status 2."""
        try:
            return super().invoke(ctx)
        except USER_ERRORS as err:
            click.secho(f"error: {err}", fg="red", err=True)
            ctx.exit(2)


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Customer-retention warehouse: demo data, pipeline runs, warehouse status.

    Paths come from the environment: RETENTION_DATA_DIR (default ./data),
    RETENTION_WAREHOUSE (default $RETENTION_DATA_DIR/warehouse.duckdb),
    RETENTION_LANDING_DIR (default $RETENTION_DATA_DIR/landing),
    RETENTION_SOURCES_FILE (database sources, default ./sources.yml if present),
    RETENTION_AS_OF_DATE (as-of date of the marts, default: latest completed order).
    """


@main.command()
@click.option("--customers", default=5000, show_default=True, type=click.IntRange(1),
              help="Number of CRM customers to simulate (1,000,000 gives about 10 million orders).")
@click.option("--seed", default=42, show_default=True, type=int,
              help="Random seed; the same seed and options write byte-identical files.")
@click.option("--end-date", default="2025-12-31", show_default=True,
              type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day of simulated history.")
@click.option("--defect-rate", default=0.0, show_default=True, type=click.FloatRange(0, 0.2),
              help="Share of rows of each entity made defective (bad dates, negative amounts, orphans, ...); "
                   "with a rate above 0 every entity is written as CSV.")
@click.option("--format", "file_format", default="mixed", show_default=True,
              type=click.Choice(["mixed", "csv", "parquet", "jsonl"]),
              help="File format; mixed writes customers and surveys as CSV, interactions as JSON Lines, "
                   "orders and lines as Parquet.")
@click.option("--csv-encoding", default="utf-8", show_default=True, type=click.Choice(["utf-8", "gb18030"]),
              help="Encoding of the CSV files (GB18030, as Chinese CRM exports often are).")
@click.option("--files-per-entity", default=1, show_default=True, type=click.IntRange(1),
              help="Split each entity over this many files.")
@click.option("--landing-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write (default: $RETENTION_LANDING_DIR or ./data/landing).")
def generate(customers: int, seed: int, end_date, defect_rate: float, file_format: str, csv_encoding: str,
             files_per_entity: int, landing_dir: Path | None) -> None:
    """Write deterministic demo CRM, order and survey files into the landing directory."""
    from ingestion.demo import generate_demo_data

    target = landing_dir or Settings.from_env().landing_dir
    click.echo(f"Generating demo data for {customers:,} customers into {target}")
    report = generate_demo_data(
        target, customers=customers, seed=seed, end_date=end_date.date(), defect_rate=defect_rate,
        file_format=file_format, csv_encoding=csv_encoding, files_per_entity=files_per_entity,
        progress=echo_progress,
    )
    for entity, rows in report.rows.items():
        click.echo(f"  {entity:<18} {rows:>12,} rows")
    click.echo(f"Done in {report.seconds:.1f} s.")


WAIT_OPTION = click.option(
    "--wait", type=click.FloatRange(0, MAX_WAIT_SECONDS), default=None,
    help="Seconds to wait for another run of the same warehouse to finish (default $RETENTION_LOCK_WAIT_SECONDS "
         "or 900; 0 = give up at once).")


@main.command(name="run")
@click.option("--as-of-date", default=None,
              help="As-of date T of the marts, YYYY-MM-DD (default: latest completed order).")
@click.option("--currency", default=None,
              help="Reporting currency, an ISO 4217 code (default $RETENTION_REPORTING_CURRENCY, else the one "
                   "currency all orders are in).")
@click.option("--full-refresh", is_flag=True,
              help="Judge quarantine and build every model from all of raw, not only what changed since the last "
                   "run (needed only to repair a warehouse by hand: new definitions rebuild by themselves).")
@click.option("--quiet", is_flag=True, help="Only print warnings and errors of the run, then the summary.")
@WAIT_OPTION
def run_command(as_of_date: str | None, currency: str | None, full_refresh: bool, quiet: bool,
                wait: float | None) -> None:
    """Load new source data, build what it changes and run every check through Dagster, then print a summary."""
    settings = dataclasses.replace(settings_with(as_of_date, wait, currency), full_refresh=full_refresh)
    ok = run_and_summarise(settings, quiet)
    sys.exit(0 if ok else 1)


@main.command()
@click.option("--customers", default=5000, show_default=True, type=click.IntRange(1),
              help="Customers to generate when the landing directory is empty.")
@click.option("--seed", default=42, show_default=True, type=int, help="Random seed of the demo data.")
@click.option("--fresh", is_flag=True,
              help="Delete the landing directory and the warehouse file first, then start over.")
@click.option("--quiet", is_flag=True, help="Only print warnings and errors of the run, then the summary.")
@WAIT_OPTION
def demo(customers: int, seed: int, fresh: bool, quiet: bool, wait: float | None) -> None:
    """Generate demo data if none has landed yet, then run the whole pipeline and print a summary."""
    from ingestion.demo import generate_demo_data

    settings = settings_with(wait=wait)
    if fresh:
        # Never from under a running run: the warehouse goes only while this command holds it.
        with writer_lock(settings.warehouse_path, Holder.this_process("fresh-start", "retention demo --fresh"),
                         settings.lock_wait_seconds, progress=echo_progress):
            shutil.rmtree(settings.landing_dir, ignore_errors=True)
            wal = settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal")
            for path in (settings.warehouse_path, wal, settings.run_report_path):
                path.unlink(missing_ok=True)
    if not any(settings.landing_dir.glob("*/*")):
        click.echo(f"Generating demo data ({customers:,} customers) into {settings.landing_dir}")
        generate_demo_data(settings.landing_dir, customers=customers, seed=seed, progress=echo_progress)
    else:
        click.echo(f"Using the files already in {settings.landing_dir} (--fresh starts over)")
    ok = run_and_summarise(settings, quiet)
    sys.exit(0 if ok else 1)


def run_and_summarise(settings: Settings, quiet: bool) -> bool:
    """Run the refresh job, print failures in words and the summary the run left; return success."""
    from orchestration.resources.dbt import resolve_pii_key
    from orchestration.runs.refresh import run_refresh

    # A refusal is said at once, in one line, rather than as a failed Dagster run (the run's own
    # log says when the demo key is used).
    resolve_pii_key(settings.pii_key, settings.landing_dir, settings.sources_file)
    stop_on_sigterm()
    click.echo(f"Running the pipeline through Dagster on {settings.warehouse_path}")
    # dagster-dbt echoes every dbt log line to stdout; Dagster's own log goes to stderr.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull if quiet else sys.stdout):
        outcome = run_refresh(settings, log_level="WARNING" if quiet else "INFO")
    click.echo(f"\nChecks: {outcome.checks_passed} passed, {outcome.checks_failed} failed, {outcome.checks_warned} "
               f"warned (run id {outcome.run_id})")
    print_warnings(outcome.warnings)
    for note in outcome.notes:
        click.echo(note[0].upper() + note[1:] + ".")
    if not outcome.success:
        click.secho(f"\nThe run failed (run id {outcome.run_id}):", fg="red", err=True)
        for message in outcome.failures:
            click.secho(f"  - {message}", fg="red", err=True)
    if outcome.summary:
        click.echo(outcome.summary)
    print_published(settings)
    return outcome.success


def print_warnings(warnings: list[str]) -> None:
    """Print every warning of a run by name, each rule that fired on its own line."""
    if warnings:
        click.secho(f"\nWarnings ({len(warnings)}; the run went on):", fg="yellow")
        for message in warnings:
            first, *rules = message.split("\n")
            click.secho(f"  - {first}", fg="yellow")
            for rule in rules:
                click.secho(f"      {rule}", fg="yellow")


def print_published(settings: Settings) -> None:
    """Print where readers find the quality report, the published marts and the HTML report."""
    from orchestration.serving.publish import read_publication
    from quality.docs_site import index_page

    data_docs = index_page(settings.data_docs_dir)
    if data_docs.exists():
        click.echo(f"quality report   {data_docs}  (Great Expectations Data Docs)")
    # The two things a reader opens come last, where the eye lands after a run.
    publication = read_publication(settings.serving_path)
    if publication is not None:
        click.echo(f"serving file     {settings.serving_path}  (published marts of run {publication.run_id[:8]}, "
                   f"as of {publication.as_of_date}, published {publication.published_at:%Y-%m-%d %H:%M} UTC; "
                   "open read-only)")
    if settings.report_path.exists():
        click.echo(f"retention report {settings.report_path}  (open in a browser)")


def print_status(settings: Settings) -> None:
    """Print the report of the latest run and what is published, without opening the warehouse."""
    from orchestration.runs.report import read_run_report

    report = read_run_report(settings.run_report_path)
    if report is None:
        click.echo(f"No run has finished on {settings.warehouse_path} yet: run `retention demo` or `retention run`.")
    else:
        verdict = "succeeded" if report.success else "FAILED"
        finished = report.finished_at.replace("T", " ").replace("+00:00", " UTC")
        click.echo(f"Latest run {report.run_id[:8]}, finished {finished}: {verdict} "
                   f"({report.checks_passed} checks passed, {report.checks_failed} failed, {report.checks_warned} "
                   "warned)")
        for message in report.failures:
            click.echo(f"  - {message}")
        print_warnings(report.warnings)
        if report.summary:
            click.echo(report.summary)
    print_published(settings)
    holder = current_holder(settings.warehouse_path)
    if holder is not None:
        click.echo(f"in progress      {holder.describe()} holds the warehouse now")


@main.command()
def status() -> None:
    """Print the latest run's report (rows per layer, customers, orders, revenue, checks) and what is published.

    It reads only what runs leave for readers, never the warehouse file, so it
    can be called at any time, also while a run is writing.
    """
    print_status(Settings.from_env())


@main.command()
@click.argument("files", nargs=-1, required=True)
@WAIT_OPTION
def forget(files: tuple[str, ...], wait: float | None) -> None:
    """Remove every row that landing FILES brought into the warehouse (all their versions), on purpose.

    FILES are paths relative to the landing directory, as the run log names
    them (e.g. orders/2024-05.csv). A file must be gone from the landing
    directory first, else the next run would load it again. The next run
    rebuilds quarantine, staging and the marts without those rows.
    """
    from ingestion.raw.forget import forget_file
    from orchestration.resources.warehouse import DuckDBWarehouse

    settings = settings_with(wait=wait)
    still_there = [f for f in files if (settings.landing_dir / f).exists()]
    if still_there:
        raise click.UsageError(f"{', '.join(still_there)} still in {settings.landing_dir}: move it away first, "
                               "or the next run loads it again")
    warehouse = DuckDBWarehouse(path=str(settings.warehouse_path))
    with writer_lock(settings.warehouse_path, Holder.this_process("forget", "retention forget"),
                     settings.lock_wait_seconds, progress=echo_progress), warehouse.connect() as con:
        for source_file in files:
            gone = forget_file(con, source_file)
            click.echo(f"{gone.source_file}: removed {gone.rows:,} {gone.entity} rows ({gone.versions} version"
                       f"{'s' if gone.versions != 1 else ''}) from raw; the next run rebuilds quarantine, staging "
                       "and the marts without them")


@main.group()
def sources() -> None:
    """Map your own exports onto the source contract: draft a mapping, then check it (README: Load your own exports)."""


@sources.command(name="suggest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the draft to this file instead of printing it.")
def sources_suggest(files: tuple[Path, ...], output: Path | None) -> None:
    """Read each export's header and a sample of its rows and write a draft mapping (a `files:` section)."""
    from ingestion.mapping.suggest import draft_text, suggest

    settings = Settings.from_env()
    text = draft_text([suggest(path, settings.landing_dir) for path in files])
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Draft written to {output}: check every guess, put it in your sources file "
                   f"({settings.sources_file or PROJECT_ROOT / 'sources.yml'}), then run `retention sources check`.")


@sources.command(name="check")
def sources_check() -> None:
    """Apply the sources file's mappings to the landing files without loading them, and print what a run would do.

    Per entity and column: how many rows parse, how many would be quarantined
    and why, statuses no mapping knows, guest and orphan shares, and which
    files the bad-share limit would refuse. The warehouse is not opened.
    """
    from ingestion.mapping.check import check_sources, format_check

    settings = Settings.from_env()
    click.echo(f"Checking the files in {settings.landing_dir} with {settings.sources_file or 'no sources file'}")
    from ingestion.landing.loader import LoadError

    try:
        checks = check_sources(settings.landing_dir, settings.sources_file, settings.pii_key)
    except LoadError as err:
        raise click.ClickException(str(err)) from None
    click.echo(format_check(checks, settings.max_bad_share))


@sources.command(name="presets")
def sources_presets() -> None:
    """List the shipped presets (mappings a `files:` entry names with `preset:` and may override)."""
    from ingestion.mapping.spec import PRESET_DIR, preset_names

    for name in preset_names():
        first = (PRESET_DIR / f"{name}.yml").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        click.echo(f"{name:<16} {first}")


@main.command()
@click.argument("query")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (header and rows) instead of a table.")
@click.option("--max-rows", default=50, show_default=True, type=click.IntRange(1),
              help="Rows shown in the table (CSV prints all).")
def sql(query: str, as_csv: bool, max_rows: int) -> None:
    """Run QUERY on the published marts (read-only), e.g. "SELECT * FROM marts.customer_retention"."""
    from orchestration.serving.query import format_csv, format_table, query_serving

    settings = Settings.from_env()
    result = query_serving(settings.serving_path, query)
    click.echo(format_csv(result) if as_csv else format_table(result, max_rows), nl=not as_csv)


@main.command()
@click.option("--port", default=3000, show_default=True, type=int, help="Port of the Dagster UI.")
def ui(port: int) -> None:
    """Start the Dagster UI and daemon (`dagster dev -w workspace.yaml`) with the project's instance."""
    from orchestration.instance import dagster_home

    home = dagster_home()
    dagster = Path(sys.executable).parent / "dagster"
    click.echo(f"Dagster home: {home}; UI on http://127.0.0.1:{port}")
    subprocess.run(
        [str(dagster), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-p", str(port)],
        cwd=PROJECT_ROOT, check=False,
    )


def run() -> None:
    """The console entry point: run the command, then leave without interpreter teardown.

    After Great Expectations has used duckdb-engine in the process, DuckDB's
    Python bindings print dozens of "nanobind: leaked ..." lines while the
    interpreter shuts down: harmless, but they bury the summary. Everything is
    written and flushed by then, so the process exits directly with the
    command's status.
    """
    # `retention sql ... | head`: a reader that stops reading ends the command quietly, as with any Unix tool.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        main(standalone_mode=True)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):
            click.echo(exit_.code, err=True)
    # What the skipped teardown would have done that matters: release multiprocessing
    # resources (else its tracker warns about a semaphore) and flush the logs.
    multiprocessing.util._run_finalizers(0)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
