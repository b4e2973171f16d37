"""A good register file (one controller, one activity, its statement beside it) and a fixture that writes
variants of it."""

import textwrap

import pytest

GOOD = """
format: ropa-file/1
statement: {file: acme.txt, title: Privacyverklaring Acme, date: 2024-03-01}
vocabulary:
  data_subject_categories: [{code: customers, name: Klanten, name_en: Customers}]
  data_categories:
    - {code: identification, name: Identificatiegegevens, name_en: Identification data}
    - {code: health, name: Gezondheid, name_en: Health, special_category: true}
controllers:
  - key: acme
    name: Acme NV
    enterprise_number: BE0653.989.638
    country: BE
    sources: ["Acme NV is verantwoordelijk voor de verwerking."]
    recipients:
      - {key: cloud, name: Cloud Inc, kind: processor, country: US, safeguard: scc}
    activities:
      - reference: AC-01
        name: Klantenbeheer
        name_en: Customer management
        purposes:
          - {description: Uitvoering van het contract, legal_basis: contract}
        data_subject_categories: [customers]
        data_categories: [identification]
        recipients: [cloud]
        retention:
          - {duration: {value: 10, unit: years}, trigger: contract_end, action: delete,
             sources: ["Wij bewaren uw gegevens 10 jaar na het einde van het contract."]}
        sources: ["Wij verwerken uw gegevens om het contract uit te voeren."]
"""

STATEMENT = (
    "Acme NV is verantwoordelijk voor de verwerking.\n"
    "Wij verwerken uw gegevens om   het contract uit te voeren.\n"
    "Wij bewaren uw gegevens 10 jaar na het einde\nvan het contract.\n"
)


@pytest.fixture
def write(tmp_path):
    (tmp_path / "acme.txt").write_text(STATEMENT)

    def _write(text: str, name: str = "acme.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return _write
