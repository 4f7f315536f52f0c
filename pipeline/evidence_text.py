"""The LISEZMOI.txt of an evidence bundle: how an auditor checks it without dematflow."""

LISEZMOI = """\
DOSSIER DE PREUVE DEMATFLOW - COMMENT LE VÉRIFIER SANS DEMATFLOW
=================================================================

Ce dossier contient une pièce (facture ou justificatif) telle qu'elle a été reçue, ses copies
scellées, ses données extraites et son rapport de validation, ses messages de cycle de vie, les
écritures du journal d'audit qui la concernent, les segments journaliers scellés qui couvrent ces
écritures, et les certificats. Chaque étape ci-dessous utilise un outil courant, pas dematflow.

Décompressez d'abord l'archive :  unzip preuve.zip -d preuve && cd preuve

1. Intégrité du dossier (empreintes SHA-256)
     sha256sum -c SHA256SUMS
   Chaque ligne doit finir par « OK ». SHA256SUMS couvre tous les fichiers sauf lui-même.

2. Le fichier reçu et les objets archivés
   archive/originals/<empreinte> est l'original, octet pour octet : son nom est son SHA-256.
     sha256sum archive/originals/*
   Le journal (journal/document.jsonl) cite l'empreinte de chaque objet archivé dans « outputs » :
     grep -o '"outputs":{[^}]*}' journal/document.jsonl
   Comparez ces empreintes à celles de « sha256sum archive/*/* ».

3. La copie scellée (PAdES, horodatée)
     pdfsig archive/sealed/<id>.pdf
   pdfsig doit annoncer « Signature is Valid. » ; le certificat est certificats/cachet.pem.
   (Pour un original XML, le cachet est archive/sealed/<id>.p7s :
     openssl cms -verify -binary -inform DER -in archive/sealed/<id>.p7s \\
       -content archive/originals/<empreinte> -CAfile certificats/chaine-1.pem -purpose any -out /dev/null )

4. Le segment journalier scellé (CAdES détaché, horodaté RFC 3161)
     openssl cms -verify -binary -inform DER -in journal/jours/<jour>.p7s \\
       -content journal/jours/<jour>.jsonl -CAfile certificats/chaine-1.pem -purpose any -out /dev/null
   doit afficher « CMS Verification successful ». Avec le certificat de développement, la racine
   certificats/chaine-1.pem est auto-signée par dematflow : elle ne prouve rien à un tiers ; en
   production la chaîne est celle d'un prestataire qualifié.
   L'horodatage porte sur la valeur de la signature :
     openssl ts -reply -token_in -in journal/jours/<jour>.tst -text
     openssl ts -verify -token_in -in journal/jours/<jour>.tst \\
       -data journal/jours/<jour>.signature.bin -CAfile certificats/chaine-1.pem \\
       -untrusted certificats/horodatage.pem
   doit afficher « Verification: OK » (avec un horodatage externe, prenez le certificat de l'autorité
   d'horodatage à la place de certificats/horodatage.pem).

5. La chaîne du journal
     python3 -I verifier_chaine.py .
   Le script (bibliothèque standard seule, lisez-le) recalcule l'empreinte de chaque écriture :
   SHA-256 de (empreinte précédente + saut de ligne + JSON canonique de seq, at, document_id, stage,
   action, body), vérifie que chaque écriture suit la précédente et que les écritures du document
   figurent telles quelles dans les segments scellés. Il doit afficher « chaîne intacte ».
   Un segment journalier donne, pour chaque écriture de la journée, sa place dans la chaîne et son
   empreinte : le cachet couvre ainsi toutes les écritures du jour, et le dossier ne révèle rien des
   autres pièces. Les écritures du document (journal/document.jsonl) sont données en entier ; le
   script recalcule leur empreinte et la retrouve à sa place dans le segment scellé.
   Les écritures d'une journée pas encore scellée sont dans journal/non-scelle.jsonl : enchaînées
   (celles des autres pièces par leur seule empreinte) mais pas encore couvertes par un cachet.

Un échec à l'une de ces étapes signifie que la pièce, ses données ou son historique ont été modifiés
après leur archivage, ou que le dossier a été altéré.
"""
