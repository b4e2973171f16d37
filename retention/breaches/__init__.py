"""Personal-data breaches (Art. 33, 34 GDPR): the breach register, its clock, its scope from the records,
risk assessments, filings to the authority and the communication to the people concerned. It reads the
records (``subjects``) and preserves their evidence with legal holds (``retention``), hence its place."""
