"""Command-line entry points: ``python -m scripts.<name> --help``. They parse flags and call maestromotif."""
