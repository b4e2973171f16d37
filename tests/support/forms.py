"""Admin form posts: what the browser sends for a new activity with one purpose and one retention rule."""


def activity_form(controller, **overrides):
    data = {
        "controller": controller.pk,
        "reference": "NEW-1",
        "name": "Nieuwe verwerking",
        "name_en": "New processing",
        "role": "controller",
        "status": "active",
        "purposes-TOTAL_FORMS": "1",
        "purposes-INITIAL_FORMS": "0",
        "purposes-MIN_NUM_FORMS": "1",
        "purposes-MAX_NUM_FORMS": "1000",
        "purposes-0-description": "Klantenbeheer",
        "purposes-0-legal_basis": "contract",
        "purposes-0-position": "0",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        "sources-MIN_NUM_FORMS": "0",
        "sources-MAX_NUM_FORMS": "1000",
        "retention_rules-TOTAL_FORMS": "1",
        "retention_rules-INITIAL_FORMS": "0",
        "retention_rules-MIN_NUM_FORMS": "0",
        "retention_rules-MAX_NUM_FORMS": "1000",
        "retention_rules-0-duration_value": "3",
        "retention_rules-0-duration_unit": "years",
        "retention_rules-0-trigger": "inactivity",
        "retention_rules-0-action": "delete",
        "retention_rules-0-grace_days": "30",
        "retention_rules-0-position": "0",
    }
    data.update(overrides)
    return data
