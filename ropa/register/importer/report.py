"""What a load did: counts per kind, the entries it kept as the register has them, the expiries it moved."""

from dataclasses import dataclass, field

from retention.services import RetentionChange


@dataclass(frozen=True)
class KeptEntry:
    """An entry a load left as the register has it: which one, why, and which fields differ from the file."""

    CHANGED = "changed in the register since it was loaded"
    CONFLICT = "changed in the register since it was loaded, and in the file (conflict)"
    REMOVED = "removed or renamed in the register since it was loaded"
    MISSING = "refers to an entry removed from the register"

    kind: str
    key: str
    why: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        differs = f"; differs in {', '.join(self.fields)}" if self.fields else ""
        return f"{self.kind} {self.key}: {self.why}{differs}"


@dataclass
class LoadReport:
    filename: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    kept: list[KeptEntry] = field(default_factory=list)
    retention: RetentionChange = field(default_factory=RetentionChange)  # whose expiry the load moved earlier

    def count(self, kind: str, created: bool, changed: bool) -> None:
        if created:
            self.created[kind] = self.created.get(kind, 0) + 1
        elif changed:
            self.updated[kind] = self.updated.get(kind, 0) + 1
        else:
            self.unchanged += 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def __str__(self) -> str:
        if not self.changed:
            text = f"{self.filename}: unchanged ({self.unchanged} entries already up to date)"
        else:
            parts = []
            for label, counts in (("new", self.created), ("updated", self.updated)):
                if counts:
                    parts.append(f"{label}: " + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())))
            text = f"{self.filename}: " + "; ".join(parts)
        if self.kept:
            text += f"; kept as the register has them: {len(self.kept)} (--force takes the file's values)"
            text += "".join(f"\n  {self.filename}: kept {entry}" for entry in self.kept)
        if self.retention.earlier:
            ids, listed = ", ".join(map(str, self.retention.records)), len(self.retention.records)
            more = f" (the first {listed})" if self.retention.earlier > listed else ""
            text += (
                f"\n  {self.filename}: retention of {self.retention.earlier} record(s) now ends earlier, "
                f"{self.retention.now_due} of them due now (the next sweep flags them unless held): "
                f"records {ids}{more}"
            )
        return text
