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

6. L'horodatage par lots (niveau de cachet B-B : la copie scellée ne porte pas d'horodatage)
   Le dossier horodatage/ contient le premier ancrage horodaté écrit après la dernière écriture du
   document : ancre-<seq>.txt est « <seq>:<empreinte> » de l'écriture <seq> du journal, et
   ancre-<seq>.tst le jeton RFC 3161 posé sur ce texte :
     openssl ts -reply -token_in -in horodatage/ancre-<seq>.tst -text
     openssl ts -verify -token_in -in horodatage/ancre-<seq>.tst -data horodatage/ancre-<seq>.txt \
       -CAfile certificats/chaine-1.pem -untrusted certificats/horodatage.pem
   doit afficher « Verification: OK » (avec une autorité d'horodatage externe, prenez sa chaîne de
   certificats). Retrouvez ensuite l'écriture <seq> et son empreinte dans le journal :
     grep -E '"seq":<seq>[,}]' journal/non-scelle.jsonl journal/jours/*.jsonl
   Comme la chaîne (étape 5) lie chaque écriture à la suivante, le jeton prouve que toutes les
   écritures du document, jusqu'à l'écriture <seq>, existaient à la date du jeton (« Time stamp »).
   Sans dossier horodatage/, la copie scellée porte son propre horodatage (niveau B-T ou plus).

Un échec à l'une de ces étapes signifie que la pièce, ses données ou son historique ont été modifiés
après leur archivage, ou que le dossier a été altéré.
"""
