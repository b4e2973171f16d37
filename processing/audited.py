"""What of the register the audit trail records (``ropa.audit.registry``): every entry, with its values."""

from ropa.audit.registry import TIMESTAMPS, Audited, register

register(
    Audited("processing.Controller", ignore=TIMESTAMPS, controller=("pk",)),
    Audited("processing.Recipient", ignore=TIMESTAMPS, controller=("controller",)),
    Audited("processing.DataSubjectCategory"),
    Audited("processing.DataCategory"),
    Audited("processing.SecurityMeasure"),
    Audited("processing.ProcessingActivity", ignore=TIMESTAMPS, controller=("controller",)),
    Audited("processing.Purpose", controller=("activity__controller",)),
    Audited("processing.Source", controller=("activity__controller",)),
    # The loader's digests of what it loaded: bookkeeping written set-based, so it makes no events; the
    # entries it describes are audited above.
    Audited("processing.LoadedEntry", values=frozenset()),
)
