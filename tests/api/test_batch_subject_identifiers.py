"""A batch names a person's identifiers once, on any of the person's records: they are stored."""


def test_a_batch_keeps_the_identifiers_given_with_any_record_of_a_subject(world):
    """Two records of one person in a batch, the identifiers sent with the second only: they are stored, for
    a new subject and for a known one alike (only the subject's first record of the batch was read)."""
    system = world.api("system_a")

    def batch(n: int, email: str) -> None:
        records = [world.record(external_id=f"c-{n}-{i}", subject="s-9") for i in range(2)]
        records[1]["subject_identifiers"] = {"email": email}
        response = system.post("records/batch/", {"records": records})
        assert response.status_code == 200, response.json()

    batch(1, "jan@example.be")
    subject = world.a.data_subjects.get(key="s-9")
    assert subject.identifiers == {"email": "jan@example.be"}
    batch(2, "jan.peeters@example.be")
    subject.refresh_from_db()
    assert subject.identifiers == {"email": "jan.peeters@example.be"}
