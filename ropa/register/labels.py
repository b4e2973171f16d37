"""What the exports say, in English, Dutch and French, whatever the interface language is.

Auditors of the Belgian DPA read the register in Dutch or French; the GDPR's own codes (legal bases,
safeguards, ...) are rendered here with the article they come from. Pure data, like
retention/wording.py: the exports pick a language per file, not per request.
"""

LANGUAGES = ("en", "nl", "fr")

Labels = dict[str, str]


def say(labels: Labels, language: str) -> str:
    """The label in ``language``, falling back to English."""
    return labels.get(language) or labels["en"]


# --- Words used across the files ------------------------------------------------------------------

WORDS: dict[str, Labels] = {
    "title": {
        "en": "Register of processing activities",
        "nl": "Register van de verwerkingsactiviteiten",
        "fr": "Registre des activités de traitement",
    },
    "subtitle": {
        "en": "Article 30 of the General Data Protection Regulation (GDPR)",
        "nl": "Artikel 30 van de Algemene Verordening Gegevensbescherming (AVG)",
        "fr": "Article 30 du Règlement général sur la protection des données (RGPD)",
    },
    "generated_at": {"en": "Generated on", "nl": "Aangemaakt op", "fr": "Généré le"},
    "as_of": {"en": "Register as it stood on", "nl": "Register zoals het was op", "fr": "Registre tel qu'il était le"},
    "as_of_today": {"en": "Current register", "nl": "Huidig register", "fr": "Registre actuel"},
    "activity_count": {"en": "Processing activities", "nl": "Verwerkingsactiviteiten", "fr": "Activités de traitement"},
    "legend": {
        "en": "Red headings: information Article 30 GDPR requires in the register.",
        "nl": "Rode titels: informatie die artikel 30 AVG in het register verplicht stelt.",
        "fr": "Titres en rouge : informations que l'article 30 du RGPD impose dans le registre.",
    },
    "page": {"en": "Page {page} of", "nl": "Pagina {page} van", "fr": "Page {page} sur"},
    "yes": {"en": "Yes", "nl": "Ja", "fr": "Oui"},
    "no": {"en": "No", "nl": "Nee", "fr": "Non"},
    "unknown": {"en": "Unknown", "nl": "Onbekend", "fr": "Inconnu"},
    "none": {"en": "None", "nl": "Geen", "fr": "Aucun"},
    "not_applicable": {"en": "Not applicable", "nl": "Niet van toepassing", "fr": "Sans objet"},
    "no_transfer": {
        "en": "None: every recipient is in the EEA",
        "nl": "Geen: alle ontvangers bevinden zich in de EER",
        "fr": "Aucun : tous les destinataires se trouvent dans l'EEE",
    },
    "eea_unknown": {
        "en": "Not known whether outside the EEA",
        "nl": "Niet bekend of buiten de EER",
        "fr": "Inconnu si hors de l'EEE",
    },
    "country_unknown": {"en": "country not stated", "nl": "land niet vermeld", "fr": "pays non précisé"},
    "no_safeguard": {"en": "no safeguard recorded", "nl": "geen waarborg vastgelegd", "fr": "aucune garantie"},
    "complete": {"en": "Complete", "nl": "Volledig", "fr": "Complet"},
    "controller_entry": {
        "en": "The controller's identification (Art. 30(1)(a))",
        "nl": "Identificatie van de verwerkingsverantwoordelijke (art. 30.1.a)",
        "fr": "Identification du responsable du traitement (art. 30.1.a)",
    },
    "missing_items": {
        "en": "Missing for Article 30",
        "nl": "Ontbreekt voor artikel 30",
        "fr": "Manque pour l'article 30",
    },
    "ended_on": {"en": "Ended on {date}", "nl": "Beëindigd op {date}", "fr": "Terminée le {date}"},
    "dpia_done": {
        "en": "Required; done on {date}",
        "nl": "Vereist; uitgevoerd op {date}",
        "fr": "Requise ; réalisée le {date}",
    },
    "dpia_pending": {
        "en": "Required; not done yet",
        "nl": "Vereist; nog niet uitgevoerd",
        "fr": "Requise ; pas encore réalisée",
    },
    "dpia_not_required": {"en": "Not required", "nl": "Niet vereist", "fr": "Non requise"},
    "dpia_not_assessed": {"en": "Not assessed", "nl": "Niet beoordeeld", "fr": "Non évaluée"},
    "art9_condition": {"en": "Art. 9(2) condition", "nl": "Voorwaarde art. 9.2 AVG", "fr": "Condition art. 9.2 RGPD"},
    "minimum_age": {"en": "Minimum age", "nl": "Minimumleeftijd", "fr": "Âge minimum"},
    "evidence": {
        "en": "Retention evidence",
        "nl": "Bewijs van bewaring en wissing",
        "fr": "Preuves de conservation et d'effacement",
    },
    "no_runs": {
        "en": "No retention run has touched this activity yet.",
        "nl": "Nog geen bewaringsronde voor deze activiteit.",
        "fr": "Aucun cycle de conservation n'a encore concerné cette activité.",
    },
    "chain_ok": {
        "en": "The erasure evidence chain verifies ({count} tombstones).",
        "nl": "De keten van wissingsbewijzen is intact ({count} bewijzen).",
        "fr": "La chaîne des preuves d'effacement est intacte ({count} preuves).",
    },
    "chain_broken": {
        "en": "The erasure evidence chain does NOT verify: {problems}",
        "nl": "De keten van wissingsbewijzen is NIET intact: {problems}",
        "fr": "La chaîne des preuves d'effacement n'est PAS intacte : {problems}",
    },
    "evidence_unavailable": {
        "en": "Retention enforcement is not installed; no evidence to show.",
        "nl": "Bewaringshandhaving is niet geïnstalleerd; geen bewijs beschikbaar.",
        "fr": "L'application des délais n'est pas installée ; aucune preuve disponible.",
    },
    "dry_run": {"en": "dry run", "nl": "proefronde", "fr": "simulation"},
    "art9": {"en": "Art. 9", "nl": "art. 9 AVG", "fr": "art. 9 RGPD"},
    "art10": {"en": "Art. 10", "nl": "art. 10 AVG", "fr": "art. 10 RGPD"},
}

SHEETS: dict[str, Labels] = {
    "controller": {"en": "Controller", "nl": "Verwerkingsverantwoordelijke", "fr": "Responsable du traitement"},
    "register": {"en": "Register", "nl": "Register", "fr": "Registre"},
    "completeness": {"en": "Completeness", "nl": "Volledigheid", "fr": "Complétude"},
    "evidence": {"en": "Retention evidence", "nl": "Bewijs bewaring", "fr": "Preuves conservation"},
    "lists": {"en": "Lists", "nl": "Lijsten", "fr": "Listes"},
}


# --- The GDPR's closed vocabularies ---------------------------------------------------------------

LEGAL_BASIS: dict[str, Labels] = {
    "consent": {
        "en": "Consent (Art. 6(1)(a) GDPR)",
        "nl": "Toestemming (art. 6.1.a AVG)",
        "fr": "Consentement (art. 6.1.a RGPD)",
    },
    "contract": {
        "en": "Contract (Art. 6(1)(b) GDPR)",
        "nl": "Uitvoering van een overeenkomst (art. 6.1.b AVG)",
        "fr": "Exécution d'un contrat (art. 6.1.b RGPD)",
    },
    "legal_obligation": {
        "en": "Legal obligation (Art. 6(1)(c) GDPR)",
        "nl": "Wettelijke verplichting (art. 6.1.c AVG)",
        "fr": "Obligation légale (art. 6.1.c RGPD)",
    },
    "vital_interests": {
        "en": "Vital interests (Art. 6(1)(d) GDPR)",
        "nl": "Vitale belangen (art. 6.1.d AVG)",
        "fr": "Intérêts vitaux (art. 6.1.d RGPD)",
    },
    "public_task": {
        "en": "Public task (Art. 6(1)(e) GDPR)",
        "nl": "Taak van algemeen belang of openbaar gezag (art. 6.1.e AVG)",
        "fr": "Mission d'intérêt public ou autorité publique (art. 6.1.e RGPD)",
    },
    "legitimate_interests": {
        "en": "Legitimate interests (Art. 6(1)(f) GDPR)",
        "nl": "Gerechtvaardigd belang (art. 6.1.f AVG)",
        "fr": "Intérêts légitimes (art. 6.1.f RGPD)",
    },
}

ART9_CONDITION: dict[str, Labels] = {
    "explicit_consent": {
        "en": "Explicit consent (Art. 9(2)(a))",
        "nl": "Uitdrukkelijke toestemming (art. 9.2.a)",
        "fr": "Consentement explicite (art. 9.2.a)",
    },
    "employment": {
        "en": "Employment and social security law (Art. 9(2)(b))",
        "nl": "Arbeids- en socialezekerheidsrecht (art. 9.2.b)",
        "fr": "Droit du travail et de la sécurité sociale (art. 9.2.b)",
    },
    "vital_interests": {
        "en": "Vital interests, subject incapable of consent (Art. 9(2)(c))",
        "nl": "Vitale belangen, betrokkene kan geen toestemming geven (art. 9.2.c)",
        "fr": "Intérêts vitaux, personne incapable de consentir (art. 9.2.c)",
    },
    "non_profit": {
        "en": "Not-for-profit body, members (Art. 9(2)(d))",
        "nl": "Instantie zonder winstoogmerk, leden (art. 9.2.d)",
        "fr": "Organisme à but non lucratif, membres (art. 9.2.d)",
    },
    "made_public": {
        "en": "Made manifestly public by the subject (Art. 9(2)(e))",
        "nl": "Kennelijk openbaar gemaakt door de betrokkene (art. 9.2.e)",
        "fr": "Rendues manifestement publiques par la personne (art. 9.2.e)",
    },
    "legal_claims": {
        "en": "Legal claims or courts (Art. 9(2)(f))",
        "nl": "Rechtsvorderingen of gerechten (art. 9.2.f)",
        "fr": "Droits en justice ou juridictions (art. 9.2.f)",
    },
    "substantial_public_interest": {
        "en": "Substantial public interest (Art. 9(2)(g))",
        "nl": "Zwaarwegend algemeen belang (art. 9.2.g)",
        "fr": "Intérêt public important (art. 9.2.g)",
    },
    "health_care": {
        "en": "Preventive or occupational medicine, health care (Art. 9(2)(h))",
        "nl": "Preventieve of arbeidsgeneeskunde, gezondheidszorg (art. 9.2.h)",
        "fr": "Médecine préventive ou du travail, soins de santé (art. 9.2.h)",
    },
    "public_health": {
        "en": "Public health (Art. 9(2)(i))",
        "nl": "Volksgezondheid (art. 9.2.i)",
        "fr": "Santé publique (art. 9.2.i)",
    },
    "archiving": {
        "en": "Archiving, research or statistics (Art. 9(2)(j))",
        "nl": "Archivering, onderzoek of statistiek (art. 9.2.j)",
        "fr": "Archivage, recherche ou statistiques (art. 9.2.j)",
    },
}

RECIPIENT_KIND: dict[str, Labels] = {
    "internal": {"en": "Internal", "nl": "Intern", "fr": "Interne"},
    "processor": {"en": "Processor", "nl": "Verwerker", "fr": "Sous-traitant"},
    "sub_processor": {"en": "Sub-processor", "nl": "Subverwerker", "fr": "Sous-traitant ultérieur"},
    "joint_controller": {
        "en": "Joint controller",
        "nl": "Gezamenlijke verwerkingsverantwoordelijke",
        "fr": "Responsable conjoint du traitement",
    },
    "independent_controller": {
        "en": "Independent controller",
        "nl": "Zelfstandige verwerkingsverantwoordelijke",
        "fr": "Responsable du traitement distinct",
    },
    "public_authority": {"en": "Public authority", "nl": "Overheidsinstantie", "fr": "Autorité publique"},
    "other": {"en": "Other", "nl": "Andere", "fr": "Autre"},
}

SAFEGUARD: dict[str, Labels] = {
    "adequacy": {
        "en": "Adequacy decision (Art. 45 GDPR)",
        "nl": "Adequaatheidsbesluit (art. 45 AVG)",
        "fr": "Décision d'adéquation (art. 45 RGPD)",
    },
    "scc": {
        "en": "Standard contractual clauses (Art. 46(2)(c) GDPR)",
        "nl": "Modelcontractbepalingen (art. 46.2.c AVG)",
        "fr": "Clauses contractuelles types (art. 46.2.c RGPD)",
    },
    "bcr": {
        "en": "Binding corporate rules (Art. 47 GDPR)",
        "nl": "Bindende bedrijfsvoorschriften (art. 47 AVG)",
        "fr": "Règles d'entreprise contraignantes (art. 47 RGPD)",
    },
    "derogation": {
        "en": "Derogation for a specific situation (Art. 49 GDPR)",
        "nl": "Afwijking voor een specifieke situatie (art. 49 AVG)",
        "fr": "Dérogation pour une situation particulière (art. 49 RGPD)",
    },
}

ROLE: dict[str, Labels] = {
    "controller": {
        "en": "Controller (Art. 30(1))",
        "nl": "Verwerkingsverantwoordelijke (art. 30.1)",
        "fr": "Responsable du traitement (art. 30.1)",
    },
    "processor": {
        "en": "Processor on behalf of a client (Art. 30(2))",
        "nl": "Verwerker namens een klant (art. 30.2)",
        "fr": "Sous-traitant pour le compte d'un client (art. 30.2)",
    },
}

STATUS: dict[str, Labels] = {
    "active": {"en": "Active", "nl": "Actief", "fr": "Active"},
    "ended": {"en": "Ended", "nl": "Beëindigd", "fr": "Terminée"},
}

MEASURE_KIND: dict[str, Labels] = {
    "technical": {"en": "Technical", "nl": "Technisch", "fr": "Technique"},
    "organisational": {"en": "Organisational", "nl": "Organisatorisch", "fr": "Organisationnelle"},
}

# The Belgian model's "type of processing": what makes a processing more than ordinary.
PROCESSING_TYPE: dict[str, Labels] = {
    "normal": {"en": "Normal", "nl": "Normaal", "fr": "Normal"},
    "special_category": {
        "en": "Special-category data (Art. 9 GDPR)",
        "nl": "Bijzondere categorieën van persoonsgegevens (art. 9 AVG)",
        "fr": "Catégories particulières de données (art. 9 RGPD)",
    },
    "criminal": {
        "en": "Criminal convictions and offences (Art. 10 GDPR)",
        "nl": "Strafrechtelijke gegevens (art. 10 AVG)",
        "fr": "Données pénales (art. 10 RGPD)",
    },
    "profiling": {
        "en": "Profiling (Art. 4(4) GDPR)",
        "nl": "Profilering (art. 4.4 AVG)",
        "fr": "Profilage (art. 4.4 RGPD)",
    },
    "automated_decision_making": {
        "en": "Automated decision-making (Art. 22 GDPR)",
        "nl": "Geautomatiseerde besluitvorming (art. 22 AVG)",
        "fr": "Décision individuelle automatisée (art. 22 RGPD)",
    },
    "processor": {
        "en": "On behalf of a client controller (Art. 30(2) GDPR)",
        "nl": "Namens een klant-verwerkingsverantwoordelijke (art. 30.2 AVG)",
        "fr": "Pour le compte d'un responsable client (art. 30.2 RGPD)",
    },
}

TRIGGER: dict[str, Labels] = {
    "collection": {"en": "Collection", "nl": "Verzameling", "fr": "Collecte"},
    "first_contact": {"en": "First contact", "nl": "Eerste contact", "fr": "Premier contact"},
    "last_contact": {"en": "Last contact", "nl": "Laatste contact", "fr": "Dernier contact"},
    "contract_end": {"en": "End of the contract", "nl": "Einde van de overeenkomst", "fr": "Fin du contrat"},
    "service_end": {"en": "End of the service", "nl": "Einde van de dienstverlening", "fr": "Fin du service"},
    "subscription_end": {
        "en": "End of the subscription",
        "nl": "Einde van het abonnement",
        "fr": "Fin de l'abonnement",
    },
    "account_closed": {"en": "Closing of the account", "nl": "Opheffen van het account", "fr": "Clôture du compte"},
    "inactivity": {"en": "Last activity", "nl": "Laatste activiteit", "fr": "Dernière activité"},
    "event_end": {"en": "End of the event", "nl": "Einde van het evenement", "fr": "Fin de l'événement"},
    "competition_end": {"en": "End of the competition", "nl": "Einde van de wedstrijd", "fr": "Fin du concours"},
    "consent_withdrawn": {
        "en": "Withdrawal of consent",
        "nl": "Intrekking van de toestemming",
        "fr": "Retrait du consentement",
    },
    "financial_year_end_of_last_invoice": {
        "en": "End of the financial year of the last invoice",
        "nl": "Einde van het boekjaar van de laatste factuur",
        "fr": "Fin de l'exercice de la dernière facture",
    },
    "controller_request": {
        "en": "Request of the client controller",
        "nl": "Verzoek van de klant-verwerkingsverantwoordelijke",
        "fr": "Demande du responsable client",
    },
    "relevance_end": {
        "en": "Data no longer relevant",
        "nl": "Gegevens niet langer relevant",
        "fr": "Données plus pertinentes",
    },
}

ACTION: dict[str, Labels] = {
    "flag": {"en": "Flag for review", "nl": "Markeren ter beoordeling", "fr": "Signaler pour examen"},
    "anonymise": {"en": "Anonymise", "nl": "Anonimiseren", "fr": "Anonymiser"},
    "delete": {"en": "Delete", "nl": "Verwijderen", "fr": "Supprimer"},
}

RUN_STATUS: dict[str, Labels] = {
    "running": {"en": "running", "nl": "bezig", "fr": "en cours"},
    "finished": {"en": "finished", "nl": "voltooid", "fr": "terminé"},
    "partial": {"en": "partial (continued by the next run)", "nl": "gedeeltelijk", "fr": "partiel"},
    "failed": {"en": "failed", "nl": "mislukt", "fr": "échoué"},
    "interrupted": {"en": "interrupted", "nl": "onderbroken", "fr": "interrompu"},
}


def choice(labels: dict[str, Labels], code: str | None, language: str) -> str:
    """A code's label; an unknown code reads as itself, an empty one as nothing."""
    if not code:
        return ""
    return say(labels[code], language) if code in labels else code


def yes_no(value: bool | None, language: str) -> str:
    if value is None:
        return say(WORDS["unknown"], language)
    return say(WORDS["yes" if value else "no"], language)
