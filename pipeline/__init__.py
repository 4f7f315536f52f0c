"""The domain: document records, the stages, the run that strings them, the journal and the catalogue."""
