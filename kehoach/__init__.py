"""kehoach: Vietnamese government plan documents as validated open-data packages.

One sub-package per stage, in the order the data flows through them:
``core`` (shared), ``read`` -> ``parse`` -> ``audit`` -> ``package`` ->
``versions`` -> ``publish``; ``kehoach.build.run_build`` runs them in
sequence. The Prefect flows and the ``kehoach`` CLI are in ``flows/``.
"""

__version__ = "0.1.0"
