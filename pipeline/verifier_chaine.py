"""Recalcule la chaîne du journal d'un dossier de preuve dematflow (bibliothèque standard seule).

Usage : python3 -I verifier_chaine.py DOSSIER   (le dossier où l'archive ZIP a été décompressée)

Chaque ligne d'un segment journalier (journal/jours/AAAA-MM-JJ.jsonl, après la ligne d'en-tête) est
une écriture : sa place dans la chaîne (seq, prev_hash) et son empreinte (hash), ou, dans les segments
de format 1, l'écriture entière. L'empreinte d'une écriture est SHA-256(prev_hash + "\\n" + JSON
canonique de seq, at, document_id, stage, action, body). Le script recalcule l'empreinte de chaque
écriture entière, vérifie l'enchaînement des écritures, et que chaque écriture du document
(journal/document.jsonl) se recalcule à l'empreinte que la chaîne porte à sa place.
"""

import hashlib
import json
import sys
from pathlib import Path

FIELDS = ("seq", "at", "document_id", "stage", "action", "body")


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(row: dict[str, object]) -> str:
    payload = canonical({k: row[k] for k in FIELDS})
    return hashlib.sha256(f"{row['prev_hash']}\n{payload}".encode()).hexdigest()


def check(folder: Path) -> list[str]:
    """Les problèmes trouvés (liste vide : la chaîne est intacte)."""
    problems: list[str] = []
    known: dict[int, str] = {}
    days = sorted((folder / "journal" / "jours").glob("*.jsonl"))
    for path in days + sorted(folder.glob("journal/non-*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        rows, last = [json.loads(line) for line in lines if line.strip()], None
        if rows and "segment" in rows[0]:  # l'en-tête d'une journée scellée
            last, rows = rows[0]["segment"]["prev_hash"], rows[1:]
        for row in rows:
            if "body" in row and row_hash(row) != row["hash"]:  # sinon : une autre pièce, par son empreinte
                problems.append(f"{path.name} seq {row['seq']} : empreinte recalculée différente")
            if last is not None and row["prev_hash"] != last:
                problems.append(f"{path.name} seq {row['seq']} : ne s'enchaîne pas à l'écriture précédente")
            known[row["seq"]], last = row["hash"], row["hash"]
    for line in (folder / "journal" / "document.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row_hash(row) != row["hash"] or known.get(row["seq"]) != row["hash"]:
            problems.append(f"écriture {row['seq']} du document : absente de la chaîne ou modifiée")
    return problems


def main() -> int:
    problems = check(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    for p in problems:
        print("ÉCHEC", p)
    print("chaîne intacte" if not problems else f"{len(problems)} problème(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
