"""What a publish did, or with ``dry_run`` would do, whatever the target."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PublishReport:
    """What a publish did (or, with ``dry_run``, would do)."""

    target: str  # "folder" or "ckan"
    location: str  # the dataset's folder or URL
    dataset: str
    version: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    metadata: str = "unchanged"  # "created", "updated" or "unchanged"
    writes: int = 0  # write calls made for files and metadata (CKAN) or files written (folder)
    datastore: list[str] = field(default_factory=list)  # tables pushed to the CKAN DataStore
    datastore_rows: int = 0
    datastore_writes: int = 0  # DataStore calls (and their view and hash), apart from ``writes``
    retries: int = 0
    dry_run: bool = False
    skipped: bool = False  # already published to this target: not even compared again
    plans: list[PublishReport] = field(default_factory=list)  # each plan's own dataset
    withdrawn: list[str] = field(default_factory=list)  # datasets of plans that left the corpus, withdrawn now

    @property
    def changed(self) -> bool:
        return (bool(self.created or self.updated or self.deleted or self.datastore)
                or self.metadata != "unchanged")

    def summary(self) -> str:
        return self._summary() + self._plans_summary()

    def _plans_summary(self) -> str:
        withdrawn = f"\nwithdrawn (plan no longer in the corpus): {', '.join(self.withdrawn)}" if self.withdrawn else ""
        if not self.plans:
            return withdrawn
        changed = [p for p in self.plans if p.changed]
        shown = "".join(f"\n  {p.summary()}" for p in changed)
        return f"\n{len(self.plans)} plan dataset(s): {len(changed)} published, {len(self.plans) - len(changed)} " \
               f"unchanged (no writes){shown}{withdrawn}"

    def _summary(self) -> str:
        head = f"{self.location}: {self.dataset} {self.version}".rstrip()
        total = len(self.created) + len(self.updated) + len(self.unchanged)
        if not self.changed:
            return f"{head} unchanged ({total} files, no writes)"
        verb = "would publish" if self.dry_run else "published"
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated", f"{len(self.deleted)} deleted",
                 f"{len(self.unchanged)} unchanged"]
        tail = "" if self.dry_run else f"; {self.writes} writes" + (f", {self.retries} retries" if self.retries else "")
        if self.datastore and not self.dry_run:
            tail += (f"; DataStore: {len(self.datastore)} tables, {self.datastore_rows} rows, "
                     f"{self.datastore_writes} writes")
        meta = "" if self.metadata == "unchanged" else f", metadata {self.metadata}"
        return f"{head} {verb}: {', '.join(parts)}{meta}{tail}"
