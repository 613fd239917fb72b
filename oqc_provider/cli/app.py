"""The ``oqc-provider`` application: global options, the command groups wired together, and the
console script's error handling (every failure one line, with an exit code)."""

from __future__ import annotations

from typing import Annotated

import typer

from oqc_provider.cli.common import EXIT_INTERRUPTED, AllowInsecure, CliSettings, configure_logging, fail

app = typer.Typer(
    help="OQC's QPUs from the command line: list QPUs, run OpenQASM, find your jobs, serve the emulator. "
    "With no --url (or OQC_URL) everything runs on the built-in emulator.",
    no_args_is_help=True,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(help="QCaaS URL (default: OQC_URL, else the built-in emulator).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="API token (default: OQC_AUTHENTICATION_TOKEN).")] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Log what happens: -v info, -vv debug.")
    ] = 0,
    allow_insecure: AllowInsecure = False,
) -> None:
    ctx.obj = CliSettings(url=url, token=token, verbose=verbose, allow_insecure=allow_insecure)
    ctx.call_on_close(configure_logging(verbose))


def _register() -> None:
    from oqc_provider.cli import qpus, run
    from oqc_provider.cli.emulator import emulator_app
    from oqc_provider.cli.jobs import jobs_app

    app.command("qpus")(qpus.qpus)
    app.command("calibration")(qpus.calibration)
    app.command("run")(run.run)
    app.command("demo")(run.demo)
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(emulator_app, name="emulator")


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``oqc-provider``): usage errors are one line too."""
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Abort:
        raise SystemExit(_one_line("interrupted", EXIT_INTERRUPTED)) from None
    except Exception as exc:
        # click's exceptions (typer vendors click in recent releases, so match by shape).
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if not exc.format_message().strip():  # no_args_is_help: the help was the answer
            raise SystemExit(exc.exit_code) from None
        context = getattr(exc, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        raise SystemExit(_one_line(exc.format_message() + hint, exc.exit_code)) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _one_line(message: str, code: int) -> int:
    return fail(message, code).exit_code
