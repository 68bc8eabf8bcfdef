"""kehoach: Vietnamese government plan documents as validated open-data packages.

The package is organised by pipeline stage (see README "Code map"):
sources -> document -> tables/appendices/narrative -> model -> validate ->
audit -> package -> publish, wired together by the Prefect flows in
``flows.pipeline`` and exposed by the ``kehoach`` CLI in ``flows.cli``.
"""

__version__ = "0.1.0"
