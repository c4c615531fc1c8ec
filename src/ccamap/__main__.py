"""The ``ccamap`` command: ``python -m ccamap`` and the console script both run :func:`main`."""

import gc


def main() -> None:
    """Run the CLI (:func:`ccamap.cli.main`) with the cyclic garbage collector off throughout.

    A command imports about a thousand modules (pandas, geopandas, folium, Typer...), and the
    collector walks every object made so far each time its thresholds pass: about 0.1 s of a 1 s
    build of the bundled data, spent finding nothing. The work itself (validation, build,
    export) already runs with the collector paused (:func:`ccamap.readers.gc_paused`), and the
    process ends with the command. Importing ``ccamap`` as a library leaves the collector alone.
    """
    gc.disable()
    # imported once the collector is off: these imports are what it would walk
    from ccamap.cli import main as run_cli

    run_cli()


if __name__ == "__main__":
    main()
