"""One module per stage; each is a typed function ``(Context, Document) -> StageResult``."""
