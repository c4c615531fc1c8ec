"""The ``ccamap`` command: ``python -m ccamap`` and the console script both run :func:`main`."""

import gc


def main() -> None:
    """Run the CLI (:func:`ccamap.cli.main`) with the cyclic garbage collector off throughout.

    A command imports about a thousand modules (pandas, geopandas, folium, Typer...), and the
    collector walks every object made so far each time its thresholds pass: about 0.1 s of a 1 s
    build of the bundled data, spent finding nothing. The work itself (validation, build,
    export) already runs with the collector paused (:func:`ccamap.readers.gc_paused`), and the
    process ends with the command. Once it is done (every output written and closed, every
    message printed) what is alive is frozen (:func:`gc.freeze`), out of reach of the
    interpreter's last collection at exit, which would walk it all (about 0.17 s); exit handlers
    and the streams' flushing still run. Importing ``ccamap`` as a library leaves the collector
    alone.
    """
    gc.disable()
    # imported once the collector is off: these imports are what it would walk
    from ccamap.cli import main as run_cli

    try:
        run_cli()
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
