"""The French catalogue of :func:`protocol.i18n.tr`: English msgid → French text.

Each French text has exactly the ``{placeholders}`` of its msgid. French typography: a space
before ":", ";", "?" and "!", and « » around quoted values (plain spaces, not non-breaking
ones: handsets and terminals render them unevenly and they cost two bytes).

``tests/protocol/test_i18n.py`` checks that every ``tr("literal", ...)`` call in ``node/``,
``tui/``, ``radio/`` and ``protocol/`` has its entry here, with the same placeholders, and
that no entry is stale. A msgid that code passes to ``tr`` indirectly (not as a literal)
goes in :data:`EXTRA_MSGIDS` as well, so the test keeps it.

Keep entries sorted by module, then in order of appearance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["EXTRA_MSGIDS", "FR"]

FR: Final[Mapping[str, str]] = {
    # protocol/i18n.py
    'unrecognised {what} "{value}"; accepted values: {choices}': (
        "« {value} » n'est pas reconnu comme {what} ; valeurs acceptées : {choices}"
    ),
    "{prefix}: {detail}": "{prefix} : {detail}",
    # protocol/charter.py
    "the charter's signature by {key} does not verify: the charter is damaged or forged; "
    "get it again from your coordinator": (
        "la signature de la charte par {key} n'est pas valide : la charte est abîmée ou "
        "falsifiée ; demandez-la à nouveau à votre coordination"
    ),
    "the charter is not signed by its founder {key}; get the signed charter from your "
    "coordinator": (
        "la charte n'est pas signée par sa fondatrice ou son fondateur {key} ; demandez la "
        "charte signée à votre coordination"
    ),
    "this charter is for zone {other}, not for this node's zone {zone}": (
        "cette charte est celle de la zone {other}, pas de la zone de ce nœud, {zone}"
    ),
    "this charter (version {serial}) is not newer than the one in use (version {current})": (
        "cette charte (version {serial}) n'est pas plus récente que celle en usage "
        "(version {current})"
    ),
    "the new charter is not signed by all its founders; get the signed charter from your "
    "coordinator": (
        "la nouvelle charte n'est pas signée par tous ses fondateurs ; demandez la charte "
        "signée à votre coordination"
    ),
    "the new charter is signed by {agreeing} of the {founders} founders of the current one; "
    "more than half must sign it": (
        "la nouvelle charte est signée par {agreeing} des {founders} fondateurs de la charte "
        "actuelle ; plus de la moitié doivent la signer"
    ),
    "this is not a zone charter: a charter file starts with {magic}, a charter text with "
    "{prefix}": (
        "ce n'est pas une charte de zone : un fichier de charte commence par {magic}, un "
        "texte de charte par {prefix}"
    ),
    # protocol/roster.py
    "no relay can receive a check-on-me entry yet: ask a coordinator": (
        "aucun relais ne peut encore recevoir d'inscription au registre : demandez à la "
        "coordination"
    ),
    # protocol/trust.py ("official" and "unverified" are with tui/text.py's)
    "marked false by the coordination": "démenti par la coordination",
    "marked false by a relay": "démenti par un relais",
    "confirmed by the coordination": "confirmé par la coordination",
    "confirmed by a relay": "confirmé par un relais",
    "seen by {count} neighbours ({vouched} known)": (
        "vu par {count} voisins (dont {vouched} connus)"
    ),
    "{state}; typed on handset {handset}, an id anyone can claim, heard by {witness}": (
        "{state} ; tapé sur le terminal {handset}, un identifiant que n'importe qui peut "
        "prendre, entendu par {witness}"
    ),
    "its witness": "son témoin",
    # protocol/handset.py
    "{n} min ago": "il y a {n} min",
    "{n} h ago": "il y a {n} h",
    "{n} d ago": "il y a {n} j",
    "To help: TAKE {id}": "Pour aider : PRIS {id}",
    "{what} (CLOSED)": "{what} (FERMÉ)",
    "Hours: {hours}": "Horaires : {hours}",
    "OFFICIAL ALL CLEAR": "FIN D'ALERTE OFFICIELLE",
    "COMMUNITY ALL CLEAR": "FIN D'ALERTE CITOYENNE",
    "OFFICIAL ALERT": "ALERTE OFFICIELLE",
    "COMMUNITY ALERT": "ALERTE CITOYENNE",
    "[EXERCISE] {what}": "[EXERCICE] {what}",
    "Area: {area}": "Zone : {area}",
    "Instruction: {text}": "Consigne : {text}",
    "Source: {source}": "Source : {source}",
    "SOS, LIFE AT RISK": "SOS, URGENCE VITALE",
    "HELP REQUEST": "DEMANDE D'AIDE",
    "{n} people": "{n} pers.",
    "via handset {node}": "via l'appareil {node}",
    "Message too long: {size} bytes, at most {max}.": (
        "Message trop long : {size} octets, {max} au maximum."
    ),
    "Message refused: it contains a control character.": (
        "Message refusé : il contient un caractère de contrôle."
    ),
    "Text too long: {size} bytes, at most {max}.": (
        "Texte trop long : {size} octets, {max} au maximum."
    ),
    "The number of people is 1 to 999.": "Le nombre de personnes va de 1 à 999.",
    '"{value}" can be offered, not asked for.': "« {value} » peut être proposé, pas demandé.",
    "Say what is needed.": "Précisez le besoin.",
    'Unknown need "{value}".': "Besoin inconnu : « {value} ».",
    "Give the request's number: {verb} 3f2a19c0": (
        "Donnez le numéro de la demande : {verb} 3f2a19c0"
    ),
    '"{value}" is not a request number: 8 characters 0-9 and a-f, like 3f2a19c0.': (
        "« {value} » n'est pas un numéro de demande : 8 caractères 0-9 et a-f, comme 3f2a19c0."
    ),
    "An arrival time is at most 7 days away.": "Une heure d'arrivée est au plus dans 7 jours.",
    "Empty message.": "Message vide.",
    "Give the name: OK FOR Mrs Martin": "Donnez le nom : OK POUR Mme Martin",
    "Name too long: {size} bytes, at most {max}.": (
        "Nom trop long : {size} octets, {max} au maximum."
    ),
    "Unknown command.": "Commande inconnue.",
    "Commands: SOS | HELP need [people] [text] | OK | OK FOR name | TAKE id | DONE id | ?": (
        "Commandes : SOS | AIDE besoin [nb] [texte] | OK | OK POUR nom | PRIS n° | FAIT n° | ?"
    ),
    "Needs: {needs}.": "Besoins : {needs}.",
    "SOS received and passed on as {id}. Send DONE {id} when it is over.": (
        "SOS reçu et diffusé sous le n° {id}. Envoyez FAIT {id} quand c'est réglé."
    ),
    "Request ({need}) passed on as {id}. Send DONE {id} when it is over.": (
        "Demande ({need}) diffusée sous le n° {id}. Envoyez FAIT {id} quand c'est réglé."
    ),
    "Noted: you are safe.": "Noté : vous êtes en sécurité.",
    "Noted: {name} is safe.": "Noté : {name} est en sécurité.",
    "Noted: you take {id}. Send DONE {id} once it is done.": (
        "Noté : vous prenez en charge {id}. Envoyez FAIT {id} une fois terminé."
    ),
    "Noted: {id} is done. Thank you!": "Noté : {id} est réglée. Merci !",
    "No request {id} is known here.": "Aucune demande {id} connue ici.",
    "{id} is not a help request.": "{id} n'est pas une demande d'aide.",
    "Request {id} is no longer current.": "La demande {id} n'est plus d'actualité.",
    "Request {id} is already closed.": "La demande {id} est déjà close.",
    "This node did not hear your request or your TAKE for {id}: send DONE where you sent"
    " them.": (
        "Ce nœud n'a entendu ni votre demande ni votre PRIS pour {id} : envoyez FAIT là où"
        " vous les aviez envoyés."
    ),
    "Only whoever made or took {id} can close it: send TAKE {id} first.": (
        "Seul qui a fait ou pris {id} peut la clore : envoyez d'abord PRIS {id}."
    ),
    # node/cli.py
    "no node is set up in {home} yet: run `entraide init` first (or give the right --home)": (
        "aucun nœud n'est encore configuré dans {home} : lancez d'abord `entraide init`"
        " (ou indiquez le bon --home)"
    ),
    "this node has no household identity in {home}: run `entraide init` first": (
        "ce nœud n'a pas d'identité de foyer dans {home} : lancez d'abord `entraide init`"
    ),
    '"{value}" can be offered but not requested; accepted values: {choices}': (
        "« {value} » peut être proposé mais pas demandé ; valeurs acceptées : {choices}"
    ),
    '"{text}" is not a duration: use minutes, or 30m, 4h, 3d, 1w': (
        "« {text} » n'est pas une durée : indiquez des minutes, ou 30m, 4h, 3j, 1sem"
    ),
    "a lifetime is at least 1 minute": "une durée de validité est d'au moins 1 minute",
    '"{text}" is not a position: use LATITUDE,LONGITUDE in degrees with a decimal point, '
    "e.g. 43.6045,1.4440": (
        "« {text} » n'est pas une position : indiquez LATITUDE,LONGITUDE en degrés, avec un"
        " point décimal, par exemple 43.6045,1.4440"
    ),
    '"{text}" is not a public key: give its 64 hex digits': (
        "« {text} » n'est pas une clé publique : donnez ses 64 chiffres hexadécimaux"
    ),
    '"{text}" is not a date: use the form 2026-11-22T14:00': (
        "« {text} » n'est pas une date : utilisez la forme 2026-11-22T14:00"
    ),
    '"{text}" is not a zone id: 8 hex digits, like 3f2a9c01': (
        "« {text} » n'est pas un identifiant de zone : 8 chiffres hexadécimaux, comme 3f2a9c01"
    ),
    "a zone name is 1 to {max} characters on one line": (
        "un nom de zone compte de 1 à {max} caractères, sur une seule ligne"
    ),
    '"{text}" is not a peer address: it starts with "/", like /ip4/192.168.1.10/tcp/4001': (
        "« {text} » n'est pas une adresse de pair : elle commence par « / »,"
        " comme /ip4/192.168.1.10/tcp/4001"
    ),
    "too long: {size} bytes, at most {max} (an accented letter counts as 2)": (
        "trop long : {size} octets, {max} au maximum (une lettre accentuée compte pour 2)"
    ),
    "must not be empty": "ne doit pas être vide",
    "contains a control character, which is not allowed": (
        "contient un caractère de contrôle, ce qui n'est pas autorisé"
    ),
    '"{text}" is not a whole number': "« {text} » n'est pas un nombre entier",
    "{value} is out of range: from {min} to {max}": "{value} est hors limites : de {min} à {max}",
    "DIR": "DOSSIER",
    "node directory (default: $ENTRAIDE_HOME or the user data directory)": (
        "dossier du nœud (par défaut : $ENTRAIDE_HOME ou le dossier de données de l'utilisateur)"
    ),
    "machine-readable JSON output": "sortie au format JSON, pour les programmes",
    "language of the output (default: the node's, else from the locale)": (
        "langue d'affichage (par défaut : celle du nœud, sinon celle du système)"
    ),
    "entraide: neighbourhood mutual aid that keeps working\n"
    "without power, phone network or internet.": (
        "entraide : l'entraide entre voisins, qui continue de fonctionner\n"
        "sans électricité, sans réseau téléphonique et sans internet."
    ),
    'Start with: entraide init --zone-name "My street"\n\n'
    "Exit codes: 0 ok, 1 internal error (please report it), 2 bad usage,\n"
    "3 node not set up or unusable, 4 input rejected, 5 not found, 130 interrupted.": (
        'Pour commencer : entraide init --zone-name "Ma rue"\n\n'
        "Codes de sortie : 0 succès, 1 erreur interne (merci de la signaler),\n"
        "2 mauvaise utilisation, 3 nœud non configuré ou inutilisable,\n"
        "4 donnée rejetée, 5 introuvable, 130 interrompu."
    ),
    "COMMAND": "COMMANDE",
    "create this household's identity and create or join an aid zone": (
        "créer l'identité de ce foyer, et créer ou rejoindre une zone d'entraide"
    ),
    "Create the household identity (an Ed25519 key kept in the node directory) and the zone "
    "settings. Without --zone-id a new zone is created; with the zone id your coordinator "
    "gave you, you join it.": (
        "Crée l'identité du foyer (une clé Ed25519 conservée dans le dossier du nœud) et les"
        " réglages de la zone. Sans --zone-id, une nouvelle zone est créée ; avec"
        " l'identifiant de zone donné par votre coordinateur, vous la rejoignez."
    ),
    "NAME": "NOM",
    "name of the aid zone": "nom de la zone d'entraide",
    "join the zone with this 8-hex-digit id": (
        "rejoindre la zone portant cet identifiant (8 chiffres hexadécimaux)"
    ),
    "public key of a town-hall bridge allowed to publish official alerts (repeatable)": (
        "clé publique d'une passerelle de la mairie autorisée à publier les alertes officielles"
        " (répétable)"
    ),
    "bootstrap peer address (repeatable)": "adresse d'un pair à joindre au démarrage (répétable)",
    "language of this node (default: from the locale)": (
        "langue de ce nœud (par défaut : celle du système)"
    ),
    "rewrite the zone settings of an existing node": (
        "réécrire les réglages de zone d'un nœud existant"
    ),
    "show this household's key, fingerprint and zone": (
        "afficher la clé, l'empreinte et la zone de ce foyer"
    ),
    "show the zone's board: alerts, help, check-ins, incidents, resource points": (
        "afficher le tableau de la zone : alertes, entraide, nouvelles des foyers, incidents,"
        " points de ressources"
    ),
    "which part of the board (default: all)": "quelle partie du tableau (par défaut : all, tout)",
    "only requests for this need": "seulement les demandes pour ce besoin",
    "only requests of this urgency": "seulement les demandes de ce degré d'urgence",
    "only my requests and my claims": "seulement mes demandes et mes prises en charge",
    "show one message in full": "afficher un message en entier",
    "message id or its first hex digits (at least 4)": (
        "identifiant du message, ou ses premiers chiffres hexadécimaux (au moins 4)"
    ),
    "write live messages to a bundle file (to carry by hand to another node)": (
        "écrire les messages en cours dans un fichier d'échange (à porter à la main jusqu'à un"
        " autre nœud)"
    ),
    "FILE": "FICHIER",
    "bundle file to write ('-' for stdout)": (
        "fichier d'échange à écrire (« - » pour la sortie standard)"
    ),
    "DATE": "DATE",
    "only messages created after this date and time, e.g. 2026-11-22T14:00": (
        "seulement les messages créés après cette date et heure, par exemple 2026-11-22T14:00"
    ),
    "read a bundle file: every message is verified like any received message": (
        "lire un fichier d'échange : chaque message est vérifié comme tout message reçu"
    ),
    "bundle file to read ('-' for stdin)": (
        "fichier d'échange à lire (« - » pour l'entrée standard)"
    ),
    "(default: {value})": "(par défaut : {value})",
    "sign and publish a message": "signer et publier un message",
    "Sign a message with this household's key and add it to the node.": (
        "Signe un message avec la clé de ce foyer et l'ajoute au nœud."
    ),
    "KIND": "TYPE",
    "DURATION": "DURÉE",
    "how long the message stays valid: 30m, 4h, 3d, 1w (default depends on the kind)": (
        "durée de validité du message : 30m, 4h, 3j, 1sem (par défaut : selon le type)"
    ),
    "precise position LAT,LON in degrees (optional; write --point=-21.1,55.5 when the latitude "
    "is negative)": (
        "position précise LAT,LON en degrés (facultatif ; écrivez --point=-21.1,55.5 si la"
        " latitude est négative)"
    ),
    "street, block or landmark (coarse)": "rue, îlot ou point de repère (approximatif)",
    "a community alert": "une alerte citoyenne",
    "TEXT": "TEXTE",
    "one line: what is happening": "une ligne : ce qui se passe",
    "how serious": "gravité",
    "how soon to act": "dans quel délai agir",
    "how sure it is": "degré de certitude",
    "what kind of danger": "type de danger",
    "what people should do": "ce que les gens doivent faire",
    "the area concerned": "le secteur concerné",
    "this is an exercise, not real": "c'est un exercice, pas une situation réelle",
    "the danger is over": "le danger est écarté (fin d'alerte)",
    "an earlier alert of yours that this one replaces (repeatable)": (
        "une de vos alertes précédentes que celle-ci remplace (répétable)"
    ),
    "ask for help": "demander de l'aide",
    "what is needed": "ce dont vous avez besoin",
    "how urgent": "degré d'urgence",
    "number of people concerned (default: 1)": "nombre de personnes concernées (par défaut : 1)",
    "a vulnerable person is concerned": "une personne vulnérable est concernée",
    "short description": "description courte",
    "offer help, a skill or equipment": "proposer de l'aide, une compétence ou du matériel",
    "what you offer": "ce que vous proposez",
    "a standing offer made ahead of any crisis (give a long --lifetime)": (
        "une offre permanente, faite avant toute crise (donnez une longue durée avec --lifetime)"
    ),
    "how many people you can help (default: 1)": (
        "combien de personnes vous pouvez aider (par défaut : 1)"
    ),
    "say you are taking care of a request": "indiquer que vous vous occupez d'une demande",
    "the request": "la demande",
    "when you expect to be there: 20m, 1h...": "dans combien de temps vous serez là : 20m, 1h...",
    "a short note": "une courte note",
    "close a request, offer or incident (done or cancelled)": (
        "clore une demande, une offre ou un incident (fait ou annulé)"
    ),
    "the request, offer or incident": "la demande, l'offre ou l'incident",
    "cancelled rather than done": "annulé plutôt que fait",
    "say how your household (or a neighbour's) is": (
        "donner des nouvelles de votre foyer (ou de celui d'un voisin)"
    ),
    "how the household is": "situation du foyer",
    "the household you visited, by its key": "le foyer auquel vous avez rendu visite, par sa clé",
    "the person you visited, by name": "la personne à qui vous avez rendu visite, par son nom",
    "number of people in the household": "nombre de personnes dans le foyer",
    "PLACE": "LIEU",
    "the alert this check-in answers": "l'alerte à laquelle ces nouvelles répondent",
    "report an incident": "signaler un incident",
    "what happened": "ce qui s'est passé",
    "TYPE": "TYPE",
    "your earlier report this one replaces": "votre signalement précédent que celui-ci remplace",
    "announce a resource point (water, shelter, charging)": (
        "annoncer un point de ressources (eau, hébergement, recharge)"
    ),
    "what the point offers": "ce que propose le point",
    "name of the place": "nom du lieu",
    "the point is closed": "le point est fermé",
    "opening hours": "horaires d'ouverture",
    "your earlier version of this point": "votre version précédente de ce point",
    "a safety tip or a drill notice": "un conseil de prévention ou l'annonce d'un exercice",
    "one line: what it is about": "une ligne : de quoi il s'agit",
    "a notice of an exercise": "l'annonce d'un exercice",
    "the tip itself": "le conseil lui-même",
    "language of the tip (default: any)": "langue du conseil (par défaut : toutes)",
    "when the exercise starts, e.g. 2026-11-22T14:00 (with --drill)": (
        "début de l'exercice, par exemple 2026-11-22T14:00 (avec --drill)"
    ),
    "when the exercise ends (with --drill)": "fin de l'exercice (avec --drill)",
    "withdraw one of your messages": "retirer un de vos messages",
    "your message to withdraw": "le message à retirer",
    "why (optional)": "pourquoi (facultatif)",
    "comment on a message": "commenter un message",
    "the message commented on": "le message à commenter",
    "the comment": "le commentaire",
    "{reason}; fix the file, or add --force to rewrite it": (
        "{reason} ; corrigez le fichier, ou ajoutez --force pour le réécrire"
    ),
    "New household identity created.": "Nouvelle identité de foyer créée.",
    "This node was already set up; nothing changed.": (
        "Ce nœud était déjà configuré ; rien n'a changé."
    ),
    "Compare the fingerprint aloud with your neighbours when you meet them.": (
        "Comparez l'empreinte à voix haute avec vos voisins quand vous les rencontrez."
    ),
    "this node is already set up for zone {zone} ({zone_id}); add --force to change its zone "
    "settings": (
        "ce nœud est déjà configuré pour la zone {zone} ({zone_id}) ; ajoutez --force pour"
        " changer ses réglages de zone"
    ),
    "zone {zone_id}": "zone {zone_id}",
    '"{text}" is not a message id: give at least its first 4 hex digits (0-9, a-f), as shown '
    "by `entraide board`": (
        "« {text} » n'est pas un identifiant de message : donnez au moins ses 4 premiers"
        " chiffres hexadécimaux (0-9, a-f), tels qu'affichés par `entraide board`"
    ),
    "no message with id {prefix} on this node": "aucun message d'identifiant {prefix} sur ce nœud",
    "{count} messages start with {prefix}: give more digits": (
        "{count} messages commencent par {prefix} : donnez plus de chiffres"
    ),
    'message {id} is of kind "{actual}"; expected: "{expected}"': (
        "le message {id} est de type « {actual} » ; attendu : « {expected} »"
    ),
    "--eta: at most {max}": "--eta : {max} au maximum",
    'only a request, an offer or an incident can be resolved; {id} is a message of kind "{kind}"': (
        "seule une demande, une offre ou un incident peut être clos ; {id} est un message de"
        " type « {kind} »"
    ),
    "only its author or someone who claimed it can resolve {id}": (
        "seul son auteur, ou quelqu'un qui l'a pris en charge, peut clore {id}"
    ),
    "--drill-start and --drill-end go with --drill": (
        "--drill-start et --drill-end s'utilisent avec --drill"
    ),
    "the exercise ends before it starts": "l'exercice se termine avant de commencer",
    "{id} was posted by another household: you can only retract your own messages": (
        "{id} a été publié par un autre foyer : vous ne pouvez retirer que vos propres messages"
    ),
    "a retraction cannot be withdrawn": "un retrait ne peut pas être lui-même retiré",
    "{id} was posted by another household: only its author can update it (post a comment "
    "instead)": (
        "{id} a été publié par un autre foyer : seul son auteur peut le mettre à jour"
        " (publiez plutôt un commentaire)"
    ),
    '--lifetime: a message of kind "{kind}" lasts at most {max}': (
        "--lifetime : un message de type « {kind} » dure au plus {max}"
    ),
    "Posted {kind} {id} ({size} bytes).": "Publié : {kind} {id} ({size} octets).",
    "a bundle is binary: redirect it to a file (entraide export - > FILE) or give a file name": (
        "un fichier d'échange est binaire : redirigez-le vers un fichier"
        " (entraide export - > FICHIER) ou donnez un nom de fichier"
    ),
    "cannot write {file}: {reason}": "impossible d'écrire {file} : {reason}",
    "Exported {count} message(s) ({size} bytes) to {file}.": (
        "{count} message(s) exporté(s) ({size} octets) vers {file}."
    ),
    "standard output": "la sortie standard",
    "cannot read {file}: {reason}": "impossible de lire {file} : {reason}",
    "{file} is not an entraide bundle (made by `entraide export`)": (
        "{file} n'est pas un fichier d'échange entraide (créé par `entraide export`)"
    ),
    "Import done: {new} new, {duplicate} already known, {rejected} rejected.": (
        "Import terminé : {new} nouveau(x), {duplicate} déjà connu(s), {rejected} rejeté(s)."
    ),
    "rejected message #{index}: {reason}": "message n° {index} rejeté : {reason}",
    "The file is damaged ({reason}): reading stopped after {count} message(s). "
    "Ask for a new copy.": (
        "Le fichier est endommagé ({reason}) : la lecture s'est arrêtée après {count}"
        " message(s). Demandez-en une nouvelle copie."
    ),
    # node/trust.py, node/cli_trust.py and the trust hooks of the CLI and render (charter,
    # roles, vouches, marks, the check-on-me roster, the clock)
    "{variable}={value}: expected a number of seconds": (
        "{variable}={value} : un nombre de secondes est attendu"
    ),
    "the zone charter {path} cannot be used ({reason}); join the zone's charter again with "
    "`entraide charter join FILE`, or move the file away": (
        "la charte de zone {path} est inutilisable ({reason}) ; rejoignez à nouveau la charte "
        "de la zone avec `entraide charter join FICHIER`, ou déplacez le fichier"
    ),
    "Zone charter in use: {name}, fingerprint {fingerprint}.": (
        "Charte de zone en usage : {name}, empreinte {fingerprint}."
    ),
    "--zone-id {zone_id} is not the zone of this charter ({charter_zone}): leave --zone-id "
    "out": (
        "--zone-id {zone_id} n'est pas la zone de cette charte ({charter_zone}) : retirez "
        "--zone-id"
    ),
    '"{text}" is not a key: give its 64 hex digits, its first 8 or more, or "me"': (
        "« {text} » n'est pas une clé : donnez ses 64 chiffres hexadécimaux, ses 8 premiers "
        "ou plus, ou « moi »"
    ),
    "the role it gets": "le rôle donné",
    "why": "pourquoi",
    "how they are": "comment vont-ils",
    "FILE|TEXT": "FICHIER|TEXTE",
    "join the zone of this charter (a file, or the text from the coordinator's screen): its "
    "zone id and name, its founders, relays and bridges": (
        "rejoindre la zone de cette charte (un fichier, ou le texte affiché par la "
        "coordination) : son identifiant et son nom, ses fondateurs, relais et passerelles"
    ),
    "DIGITS": "CHIFFRES",
    "the charter's fingerprint as your coordinator reads it aloud: the charter is used only "
    "if it matches": (
        "l'empreinte de la charte telle que la coordination la lit à voix haute : la charte "
        "n'est utilisée que si elle correspond"
    ),
    "the fingerprint was compared already: do not ask": (
        "l'empreinte a déjà été comparée : ne pas demander"
    ),
    "the zone's charter: create, sign, join or show it": (
        "la charte de la zone : la créer, la signer, la rejoindre ou l'afficher"
    ),
    "A zone's charter says what the zone is and whom it trusts from the start: its founders "
    "(the coordinators), its relays and its official-alert bridges. It is handed over in "
    "person, as a file or as a text shown on a screen, and checked by reading its fingerprint "
    "aloud: a node trusts only the charter it was given this way. The roles then spread by "
    "signed vouches (entraide vouch).": (
        "La charte d'une zone dit ce qu'est la zone et à qui elle fait confiance dès le départ "
        ": ses fondateurs (la coordination), ses relais et ses passerelles d'alertes "
        "officielles. Elle se remet en personne, en fichier ou en texte affiché à l'écran, et "
        "se vérifie en lisant son empreinte à voix haute : un nœud ne fait confiance qu'à la "
        "charte reçue ainsi. Les rôles se transmettent ensuite par parrainages signés "
        "(entraide vouch)."
    ),
    "ACTION": "ACTION",
    "write a new charter for this node's zone, signed by this household": (
        "écrire une nouvelle charte pour la zone de ce nœud, signée par ce foyer"
    ),
    "Write a charter for this node's zone (a zone keeps its id when it adopts one). The "
    "founders are this household unless --founder says otherwise; each founder signs it on "
    "their own node (entraide charter sign) before anyone joins it. To replace the zone's "
    "charter (a founder leaves, a bridge changes), create a new one: its version is one "
    "more, and more than half of the current founders must sign it.": (
        "Écrire une charte pour la zone de ce nœud (une zone garde son identifiant quand elle "
        "en adopte une). Les fondateurs sont ce foyer sauf si --founder en désigne d'autres ; "
        "chaque fondateur la signe sur son propre nœud (entraide charter sign) avant que "
        "quiconque la rejoigne. Pour remplacer la charte de la zone (un fondateur part, une "
        "passerelle change), créez-en une nouvelle : sa version augmente de un, et plus de la "
        "moitié des fondateurs actuels doivent la signer."
    ),
    "the charter file to write": "le fichier de charte à écrire",
    "the zone's name (default: the name in this node's settings)": (
        "le nom de la zone (par défaut : celui des réglages de ce nœud)"
    ),
    "the streets or district it covers": "les rues ou le quartier qu'elle couvre",
    "a founding coordinator's key (repeatable; default: this household)": (
        "la clé d'un membre fondateur de la coordination (répétable ; par défaut : ce foyer)"
    ),
    "a relay's key (repeatable)": "la clé d'un relais (répétable)",
    "an official-alert bridge's key (repeatable)": (
        "la clé d'une passerelle d'alertes officielles (répétable)"
    ),
    "a bootstrap peer every node dials (repeatable)": (
        "un pair d'amorçage que chaque nœud contacte (répétable)"
    ),
    "how far ahead of a node's clock a message may be dated (default: 600)": (
        "de combien un message peut être daté en avance sur l'horloge d'un nœud (par défaut : "
        "600)"
    ),
    "REGION": "RÉGION",
    "the LoRa region": "la région LoRa",
    "PRESET": "PRÉRÉGLAGE",
    "the modem preset": "le préréglage du modem",
    "the Meshtastic channel name": "le nom du canal Meshtastic",
    "replace FILE if it exists": "remplacer FICHIER s'il existe",
    "add this household's signature to a charter (a founder's)": (
        "ajouter la signature de ce foyer à une charte (celle d'un fondateur)"
    ),
    "Check a charter's signatures, show what it says and its fingerprint, and add this "
    "household's signature to the file. Compare the fingerprint with the other founders' "
    "before signing.": (
        "Vérifier les signatures d'une charte, afficher ce qu'elle dit et son empreinte, et "
        "ajouter la signature de ce foyer au fichier. Comparez l'empreinte avec celle des "
        "autres fondateurs avant de signer."
    ),
    "the charter file (rewritten)": "le fichier de charte (réécrit)",
    "use this charter on this node, after comparing its fingerprint": (
        "utiliser cette charte sur ce nœud, après avoir comparé son empreinte"
    ),
    "Read a charter (a file, or the text your coordinator shows), show its fingerprint and "
    "use it once you have compared it with the one the coordinator reads aloud. A charter is "
    "only for the zone it names: join a node to that zone first (entraide init --charter "
    "FILE does both). A newer charter replaces the current one only if more than half of the "
    "current founders signed it.": (
        "Lire une charte (un fichier, ou le texte que montre la coordination), afficher son "
        "empreinte et l'utiliser une fois comparée avec celle que la coordination lit à voix "
        "haute. Une charte ne vaut que pour la zone qu'elle nomme : rattachez d'abord le nœud "
        "à cette zone (entraide init --charter FICHIER fait les deux). Une charte plus récente "
        "ne remplace l'actuelle que si plus de la moitié des fondateurs actuels l'ont signée."
    ),
    "the charter file, its text, or - for stdin": (
        "le fichier de charte, son texte, ou - pour l'entrée standard"
    ),
    "show the zone's charter, its fingerprint and its text": (
        "afficher la charte de la zone, son empreinte et son texte"
    ),
    "only the text form (for a QR code: pipe it to qrencode -t ansiutf8)": (
        "seulement le texte (pour un QR code : envoyez-le à qrencode -t ansiutf8)"
    ),
    "who holds which role in the zone: coordinators, relays, bridges, households": (
        "qui tient quel rôle dans la zone : coordination, relais, passerelles, foyers"
    ),
    "vouch for a household you know in person (relays, coordinators)": (
        "parrainer un foyer que vous connaissez en personne (relais, coordination)"
    ),
    "Say that you know this key's household, and give it a role. A relay or a coordinator "
    "vouches for households; a coordinator also makes relays, bridges and other "
    "coordinators. Vouched households get looser rate limits and their corroborations weigh "
    "more. Compare the key's fingerprint with its household first. A vouch lasts a year: "
    "renew it before it ends; withdraw it with entraide post retract ID.": (
        "Dire que vous connaissez le foyer de cette clé, et lui donner un rôle. Un relais ou la "
        "coordination parraine des foyers ; la coordination nomme aussi relais, passerelles et "
        "autres membres de la coordination. Les foyers parrainés ont des limites de débit plus "
        "larges et leurs témoignages pèsent plus. Comparez d'abord l'empreinte de la clé avec "
        "son foyer. Un parrainage dure un an : renouvelez-le avant la fin ; retirez-le avec "
        "entraide post retract ID."
    ),
    "KEY": "CLÉ",
    "the household's key": "la clé du foyer",
    "how you know the household (public, like every message)": (
        "comment vous connaissez le foyer (public, comme tout message)"
    ),
    "take a role away from a key, for good (or give up your own)": (
        "retirer un rôle à une clé, définitivement (ou renoncer au vôtre)"
    ),
    "A coordinator revokes a key's role (every role unless --role says which); anyone may "
    'revoke their own key ("me"), for instance when it is lost or stolen. A revocation '
    "cannot be undone: vouch for a new key instead. Everything the key did in that role stops "
    "counting, on every node that holds the revocation: re-vouch first what should stay.": (
        "La coordination révoque le rôle d'une clé (tous ses rôles, sauf si --role en désigne "
        "un) ; chacun peut révoquer sa propre clé (« moi »), par exemple quand elle est perdue "
        "ou volée. Une révocation est définitive : parrainez plutôt une nouvelle clé. Tout ce "
        "que la clé a fait dans ce rôle cesse de compter, sur chaque nœud qui détient la "
        "révocation : parrainez d'abord à nouveau ce qui doit rester."
    ),
    'the key, or "me"': "la clé, ou « moi »",
    "ROLE": "RÔLE",
    "only this role {{{roles}}} (default: every role)": (
        "seulement ce rôle {{{roles}}} (par défaut : tous les rôles)"
    ),
    "how long it stays valid: 4h, 3d, 1w (default: as long as what it is about)": (
        "combien de temps il reste valable : 4h, 3j, 1sem (par défaut : autant que ce dont il "
        "parle)"
    ),
    "a relay's verdict on a report or request: confirmed, or false": (
        "l'avis d'un relais sur un signalement ou une demande : confirmé, ou faux"
    ),
    "A relay or a coordinator marks a request, offer, incident, resource point or community "
    "alert as confirmed (seen on the spot) or false. Every board shows it; a false report "
    "stays listed, flagged and last. A coordinator's verdict overrides a relay's. A newer "
    "mark replaces yours; entraide post retract withdraws it.": (
        "Un relais ou la coordination marque une demande, une offre, un incident, un point de "
        "ressources ou une alerte de voisinage comme confirmé (vu sur place) ou faux. Chaque "
        "tableau l'affiche ; un signalement faux reste listé, signalé et en dernier. L'avis de "
        "la coordination l'emporte sur celui d'un relais. Une marque plus récente remplace la "
        "vôtre ; entraide post retract la retire."
    ),
    "Examples:\n  entraide mark confirmed 41429732\n  entraide mark false 41429732": (
        "Exemples :\n  entraide mark confirmé 41429732\n  entraide mark faux 41429732"
    ),
    "VERDICT": "AVIS",
    "the message id (its first 4 hex digits or more)": (
        "l'identifiant du message (ses 4 premiers chiffres hexadécimaux ou plus)"
    ),
    "\"I saw it too\": a neighbour's word on a report or request": (
        "« je l'ai vu aussi » : le témoignage d'un voisin sur un signalement ou une demande"
    ),
    "Say you saw it too (an incident, an alert, a resource point) or know the need is real "
    '(a request). Two vouched neighbours, or four unvouched ones, make it "corroborated" on '
    "every board.": (
        "Dire que vous l'avez vu aussi (un incident, une alerte, un point de ressources) ou que "
        "vous savez le besoin réel (une demande). Deux voisins parrainés, ou quatre non "
        "parrainés, le font « confirmé par des voisins » sur chaque tableau."
    ),
    '"please check on me": join the roster, or (relays) read it and record visits': (
        "« passez me voir » : s'inscrire au registre, ou (relais) le lire et noter les visites"
    ),
    "A household that needs a visit after an alert (oxygen at home, a wheelchair, living "
    "alone) joins the roster with its needs: the entry is encrypted to the zone's relays, "
    "nobody else can read it. After an alert, a household of the roster that has not "
    "checked in escalates to its assigned relay, then to every relay. Relays list the roster "
    "and who needs a visit (entraide roster), and record their visits as check-ins on the "
    "household's behalf.": (
        "Un foyer qui a besoin d'une visite après une alerte (oxygène à domicile, fauteuil "
        "roulant, personne seule) s'inscrit au registre avec ses besoins : l'inscription est "
        "chiffrée pour les relais de la zone, personne d'autre ne peut la lire. Après une "
        "alerte, un foyer du registre qui n'a pas donné de nouvelles est signalé à son relais "
        "attitré, puis à tous les relais. Les relais consultent le registre et qui attend une "
        "visite (entraide roster), et notent leurs visites comme nouvelles du foyer données "
        "pour lui."
    ),
    "Examples:\n"
    '  entraide charter create zone.ent --name "Rue des Lilas" --relay <64 hex digits>\n'
    "  entraide charter sign zone.ent          (each other founder, on their node)\n"
    "  entraide charter join zone.ent          (every household, this one too)\n"
    "  entraide charter show --text | qrencode -t ansiutf8   (a QR code to scan)": (
        "Exemples :\n"
        '  entraide charter create zone.ent --name "Rue des Lilas" --relay <64 chiffres hexa>\n'
        "  entraide charter sign zone.ent          (chaque autre fondateur, sur son nœud)\n"
        "  entraide charter join zone.ent          (chaque foyer, celui-ci aussi)\n"
        "  entraide charter show --text | qrencode -t ansiutf8   (un QR code à scanner)"
    ),
    "Examples:\n"
    "  entraide charter join zone.ent\n"
    "  entraide charter join ENTRAIDE-ZONE1:AEBA… --fingerprint '12345 67890 12345 67890'": (
        "Exemples :\n"
        "  entraide charter join zone.ent\n"
        "  entraide charter join ENTRAIDE-ZONE1:AEBA… --fingerprint '12345 67890 12345 67890'"
    ),
    "Examples:\n"
    '  entraide vouch 3f2a9c01 --name "Mme Martin, 12 rue des Lilas"\n'
    "  entraide vouch 3f2a9c01b7e4d5a6 --role relay": (
        "Exemples :\n"
        '  entraide vouch 3f2a9c01 --name "Mme Martin, 12 rue des Lilas"\n'
        "  entraide vouch 3f2a9c01b7e4d5a6 --role relais"
    ),
    "Examples:\n"
    "  entraide revoke 3f2a9c01 --role relay --reason misconduct\n"
    "  entraide revoke me --reason key-lost": (
        "Exemples :\n"
        "  entraide revoke 3f2a9c01 --role relais --reason abus\n"
        "  entraide revoke moi --reason key-lost"
    ),
    "Examples:\n"
    '  entraide roster join --needs "oxygène à domicile" --address "12 rue des Lilas, 3e"\n'
    "  entraide roster                      (a relay: entries and escalations)\n"
    "  entraide roster visit 3f2a9c01 --status safe\n"
    '  entraide roster add --name "M. Petit" --needs "fauteuil roulant"   (a relay)\n'
    "  entraide roster leave": (
        "Exemples :\n"
        '  entraide roster join --needs "oxygène à domicile" --address "12 rue des Lilas, 3e"\n'
        "  entraide roster                      (un relais : inscriptions et signalements)\n"
        '  entraide roster visit 3f2a9c01 --status "en sécurité"\n'
        '  entraide roster add --name "M. Petit" --needs "fauteuil roulant"   (un relais)\n'
        "  entraide roster leave"
    ),
    "(relays) the entries you can read, and escalations": (
        "(relais) les inscriptions que vous pouvez lire, et qui attend une visite"
    ),
    "what the household needs: oxygen at home, wheelchair, hard of hearing…": (
        "ce dont le foyer a besoin : oxygène à domicile, fauteuil roulant, malentendant…"
    ),
    "where to go: street, floor, door code": "où aller : rue, étage, digicode",
    "a phone number, a relative": "un numéro de téléphone, un proche",
    "after an alert, escalate when not heard from for this long (15m to 1d; 2h)": (
        "après une alerte, prévenir les relais sans nouvelles depuis ce délai (15m à 1j ; 2h)"
    ),
    "the relay you would like to come (default: chosen for you)": (
        "le relais que vous souhaitez voir venir (par défaut : choisi pour vous)"
    ),
    "your earlier entry that this one replaces": (
        "votre inscription précédente que celle-ci remplace"
    ),
    "ask to be checked on after an alert (your needs, sealed to the relays)": (
        "demander une visite après une alerte (vos besoins, chiffrés pour les relais)"
    ),
    "(relays) enter a person without a node, by name": (
        "(relais) inscrire une personne sans nœud, par son nom"
    ),
    "the person's name, as neighbours know it": (
        "le nom de la personne, tel que les voisins le connaissent"
    ),
    "(relays) record a visit: a check-in on the household's behalf": (
        "(relais) noter une visite : des nouvelles du foyer données pour lui"
    ),
    "HOUSEHOLD": "FOYER",
    "the household as the roster shows it: its key's first digits, or the name": (
        "le foyer tel que le registre l'affiche : les premiers chiffres de sa clé, ou le nom"
    ),
    "withdraw your entries from the roster": "retirer vos inscriptions du registre",
    "from 15 minutes to 1 day (15m, 2h, 1d)": "de 15 minutes à 1 jour (15m, 2h, 1j)",
    "none (unvouched)": "aucun (non parrainé)",
    "compare the charter's fingerprint, {fingerprint}, with the one your coordinator reads "
    'aloud, then run the command again with --fingerprint "{fingerprint}" (or --yes)': (
        "comparez l'empreinte de la charte, {fingerprint}, avec celle que la coordination lit "
        'à voix haute, puis relancez la commande avec --fingerprint "{fingerprint}" (ou --yes)'
    ),
    "Zone charter: {name} (zone {zone}, version {serial})": (
        "Charte de zone : {name} (zone {zone}, version {serial})"
    ),
    "Signed by this household ({fingerprint}).": "Signée par ce foyer ({fingerprint}).",
    "Roles of this household: {roles}": "Rôles de ce foyer : {roles}",
    "Vouched for key {key} (fingerprint {fingerprint}) as {role}; vouch {id}, valid "
    "{lifetime}.": (
        "Clé {key} (empreinte {fingerprint}) parrainée comme {role} ; parrainage {id}, valable "
        "{lifetime}."
    ),
    "Revoked {role} of key {key} (fingerprint {fingerprint}); revocation {id}. It cannot be "
    "undone.": (
        "Révoqué : {role} de la clé {key} (empreinte {fingerprint}) ; révocation {id}. C'est "
        "définitif."
    ),
    "Marked {id} as {verdict} (mark {mark}). Boards now say: {shown}.": (
        "{id} marqué {verdict} (vérification {mark}). Les tableaux disent maintenant : {shown}."
    ),
    "You saw {id} too (corroboration {mark}). Boards now say: {shown}.": (
        "Vous avez vu {id} aussi (témoignage {mark}). Les tableaux disent maintenant : {shown}."
    ),
    "not heard from": "sans nouvelles",
    "On the roster (entry {id}, valid {lifetime}): the details are sealed to {count} relay(s) "
    "of the zone, and only they can read them; the assigned relay is {relay}.": (
        "Inscrit au registre (inscription {id}, valable {lifetime}) : les détails sont "
        "chiffrés pour {count} relais de la zone, eux seuls peuvent les lire ; le relais "
        "attitré est {relay}."
    ),
    "Visit recorded: {household} is {status} (check-in {id}).": (
        "Visite notée : {household} est {status} (nouvelles {id})."
    ),
    "only a {roles} of the zone can send this, and this household's roles are: {mine}. Ask a "
    "coordinator of the zone": (
        "seul un rôle {roles} de la zone peut envoyer ceci, et les rôles de ce foyer sont : "
        "{mine}. Demandez à la coordination de la zone"
    ),
    "no key of the zone starts with {prefix}: give its 64 hex digits": (
        "aucune clé de la zone ne commence par {prefix} : donnez ses 64 chiffres hexadécimaux"
    ),
    "{count} keys start with {prefix}: give more digits": (
        "{count} clés commencent par {prefix} : donnez plus de chiffres"
    ),
    "Does your coordinator read the same fingerprint? (yes/no) ": (
        "La coordination lit-elle la même empreinte ? (oui/non) "
    ),
    "charter not used: its fingerprint must match": (
        "charte non utilisée : son empreinte doit correspondre"
    ),
    "fingerprint: {fingerprint}": "empreinte : {fingerprint}",
    "issued: {date}": "émise le : {date}",
    "founders (coordinators)": "fondateurs (coordination)",
    "relays": "relais",
    "official-alert bridges": "passerelles d'alertes officielles",
    "max clock skew: {seconds} s": "décalage d'horloge toléré : {seconds} s",
    "{file} exists: choose another name, or add --force to replace it": (
        "{file} existe : choisissez un autre nom, ou ajoutez --force pour le remplacer"
    ),
    "Every founder has signed. Each household joins it (this one too), after comparing the "
    "fingerprint: entraide charter join {file}": (
        "Tous les fondateurs ont signé. Chaque foyer la rejoint (celui-ci aussi), après avoir "
        "comparé l'empreinte : entraide charter join {file}"
    ),
    "Each founder still to sign runs on their node: entraide charter sign {file}": (
        "Chaque fondateur qui doit encore signer lance sur son nœud : entraide charter sign "
        "{file}"
    ),
    "This zone has no charter: nobody holds a role, except the bridges of this node's "
    "settings.": (
        "Cette zone n'a pas de charte : personne n'a de rôle, sauf les passerelles des "
        "réglages de ce nœud."
    ),
    "only a request, an offer, an incident, a resource point or an alert can be verified; "
    '{id} is a message of kind "{kind}"': (
        "seuls une demande, une offre, un incident, un point de ressources ou une alerte se "
        "vérifient ; {id} est un message de type « {kind} »"
    ),
    "{id} is your own message: your word on it would count for nothing": (
        "{id} est votre propre message : votre avis dessus ne compterait pas"
    ),
    "Only the zone's relays can read the check-on-me roster, and this household is not one. "
    "To be on it yourself: entraide roster join --needs TEXT": (
        "Seuls les relais de la zone peuvent lire le registre « passez me voir », et ce foyer "
        "n'en est pas un. Pour vous y inscrire : entraide roster join --needs TEXTE"
    ),
    "No alert under way: nobody needs a visit.": (
        "Aucune alerte en cours : personne n'attend de visite."
    ),
    "every relay": "tous les relais",
    "After an alert, say how you are (entraide post checkin): without news, a relay comes.": (
        "Après une alerte, donnez de vos nouvelles (entraide post checkin) : sans nouvelles, "
        "un relais passe."
    ),
    "nobody can vouch for their own key": "personne ne peut parrainer sa propre clé",
    "the fingerprint you were given ({given}) is not this charter's ({fingerprint}): do not "
    "use it, and ask your coordinator for the charter again": (
        "l'empreinte qu'on vous a donnée ({given}) n'est pas celle de cette charte "
        "({fingerprint}) : ne l'utilisez pas, et redemandez la charte à la coordination"
    ),
    "area: {area}": "secteur : {area}",
    "bootstrap peer: {peer}": "pair d'amorçage : {peer}",
    "LoRa: {settings}": "LoRa : {settings}",
    "not signed yet by: {keys}": "pas encore signée par : {keys}",
    "This node now uses the zone's charter.": "Ce nœud utilise désormais la charte de la zone.",
    "This node already used this charter.": "Ce nœud utilisait déjà cette charte.",
    "This charter replaces the one this node used.": (
        "Cette charte remplace celle qu'utilisait ce nœud."
    ),
    "This zone has no charter yet: every key is trusted alike. A coordinator writes one "
    "with `entraide charter create`; households join it with `entraide charter join FILE`.": (
        "Cette zone n'a pas encore de charte : toutes les clés ont la même confiance. La "
        "coordination en écrit une avec `entraide charter create` ; les foyers la rejoignent "
        "avec `entraide charter join FICHIER`."
    ),
    "The charter as text (show it as a QR code, or read it out; a neighbour joins with "
    "entraide charter join TEXT):": (
        "La charte en texte (à montrer en QR code, ou à lire ; un voisin la rejoint avec "
        "entraide charter join TEXTE) :"
    ),
    "this node's settings": "les réglages de ce nœud",
    "(you)": "(vous)",
    "Check-on-me roster": "Registre « passez me voir »",
    "Needs a visit, since the alert of {time}": "Attend une visite, depuis l'alerte du {time}",
    "for {who}, since {time}": "pour {who}, depuis {time}",
    "{key} is not a relay of the zone": "{key} n'est pas un relais de la zone",
    "{count} households of the roster you can read match {text}: give the name or the "
    "key's first digits as entraide roster shows them": (
        "{count} foyers du registre que vous lisez correspondent à {text} : donnez le nom ou "
        "les premiers chiffres de la clé tels qu'entraide roster les affiche"
    ),
    "{count} roster entry(ies) withdrawn.": "{count} inscription(s) retirée(s) du registre.",
    "You have no entry in the roster.": "Vous n'êtes pas inscrit au registre.",
    "revoked": "révoqués",
    "every role": "tous les rôles",
    "{id} is not one of your roster entries": "{id} n'est pas une de vos inscriptions au registre",
    "or": "ou",
    "the charter": "la charte",
    "assigned relay: {relay}": "relais attitré : {relay}",
    "escalates after {delay}": "signalé après {delay}",
    "typed on handset": "tapé sur le boîtier",
    "key concerned": "clé concernée",
    "role": "rôle",
    "verdict": "avis",
    "needs": "besoins",
    "address": "adresse",
    "contact": "contact",
    "assigned relay": "relais attitré",
    "escalates after": "signalé après",
    "sealed to": "chiffré pour",
    "{count} relay(s); only they can read it": "{count} relais ; eux seuls peuvent le lire",
    "{span} behind the network": "{span} de retard sur le réseau",
    "{span} ahead of the network": "{span} d'avance sur le réseau",
    "zone charter: {name}, fingerprint {fingerprint}": (
        "charte de zone : {name}, empreinte {fingerprint}"
    ),
    "zone charter: none (every key is trusted alike)": (
        "charte de zone : aucune (toutes les clés ont la même confiance)"
    ),
    "roles of this household: {roles}": "rôles de ce foyer : {roles}",
    "clock: {offset} (estimated from {count} peers); messages are dated with the network's "
    "time": (
        "horloge : {offset} (estimé d'après {count} pairs) ; les messages sont datés à "
        "l'heure du réseau"
    ),
    "clock: agrees with {count} peers": "horloge : d'accord avec {count} pairs",
    "clock: not checked yet (heard from {count} peers, 3 needed)": (
        "horloge : pas encore vérifiée ({count} pairs entendus, il en faut 3)"
    ),
    "Zone charter:    fingerprint {fingerprint}": "Charte de zone :      empreinte {fingerprint}",
    "A neighbour joins this zone with the charter (entraide charter show gives its text, for "
    "a QR code), comparing its fingerprint aloud:": (
        "Un voisin rejoint cette zone avec la charte (entraide charter show donne son texte, "
        "pour un QR code), en comparant son empreinte à voix haute :"
    ),
    # --- end of the trust commands ---
    # node/render.py
    "{n} days": "{n} jours",
    "{n} h": "{n} h",
    "{n} min": "{n} min",
    "now": "à l'instant",
    "{rel} ago": "il y a {rel}",
    "in {rel}": "dans {rel}",
    "Household key:   {key}": "Clé du foyer :        {key}",
    "Fingerprint:     {fingerprint}": "Empreinte :           {fingerprint}",
    "Aid zone:        {name} ({zone_id})": "Zone d'entraide :     {name} ({zone_id})",
    "Trusted bridges: {count}": "Passerelles agréées : {count}",
    "Node directory:  {home}": "Dossier du nœud :     {home}",
    "yes": "oui",
    "no": "non",
    "headline": "titre",
    "severity": "gravité",
    "urgency": "urgence",
    "certainty": "certitude",
    "category": "catégorie",
    "instruction": "consigne",
    "area": "secteur",
    "origin": "origine",
    "official source": "source officielle",
    "exercise": "exercice",
    "all clear": "fin d'alerte",
    "need": "besoin",
    "people": "personnes",
    "vulnerable person": "personne vulnérable",
    "place": "lieu",
    "position": "position",
    "text": "texte",
    "offer": "offre",
    "standing offer": "offre permanente",
    "capacity": "capacité",
    "expected in": "arrivée prévue dans",
    "outcome": "issue",
    "status": "état",
    "household visited": "foyer visité",
    "person visited": "personne visitée",
    "type": "type",
    "name": "nom",
    "open": "ouvert",
    "title": "titre",
    "language": "langue",
    "drill starts": "début de l'exercice",
    "drill ends": "fin de l'exercice",
    "reason": "motif",
    "claimed": "pris en charge",
    "resolved": "résolu",
    "{label}:": "{label} :",
    "author": "auteur",
    "created": "créé",
    "expires": "expire",
    "size": "taille",
    "{size} bytes": "{size} octets",
    "refers to": "se rapporte à",
    "← {kind} {id} by {author}, {time}": "← {kind} {id} par {author}, {time}",
    "Alerts": "Alertes",
    "OFFICIAL": "OFFICIELLE",
    "EXERCISE": "EXERCICE",
    "ALL CLEAR": "FIN D'ALERTE",
    "community": "citoyenne",
    "id": "id",
    "source": "source",
    "when": "quand",
    "Help requests": "Demandes d'aide",
    "claimed by {who}": "pris en charge par {who}",
    "details": "détails",
    "Help offers": "Offres d'aide",
    "standing": "permanente",
    "Check-ins": "Nouvelles des foyers",
    "household": "foyer",
    "reported by": "signalé par",
    "Not heard from since the alert of {time}": "Sans nouvelles depuis l'alerte du {time}",
    "Incidents": "Incidents",
    "Resource points": "Points de ressources",
    "state": "état",
    "closed": "fermé",
    "Tips and drills": "Conseils et exercices",
    "Nothing yet. Say you are safe with `entraide post checkin`, or bring messages "
    "from a neighbour with `entraide import FILE`.": (
        "Rien pour l'instant. Dites que vous êtes en sécurité avec `entraide post checkin`, "
        "ou apportez les messages d'un voisin avec `entraide import FICHIER`."
    ),
    "{done} messages…": "{done} messages…",
    "… and {count} more rejected.": "… et {count} autre(s) rejeté(s).",
    "{file} is larger than any bundle may be ({size} MiB)": (
        "{file} est plus gros qu'un paquet ne peut l'être ({size} Mio)"
    ),
    "Some messages were refused for their date. This computer's clock says "
    "{time}: if that is wrong, set the clock and import again.": (
        "Des messages ont été refusés à cause de leur date. L'horloge de cet ordinateur "
        "indique {time} : si elle est fausse, réglez-la puis importez à nouveau."
    ),
    "{reason}; to rewrite it, also give the zone's id with --zone-id": (
        "{reason} ; pour le réécrire, donnez aussi l'identifiant de la zone avec --zone-id"
    ),
    "the bundle was not written: the program reading it stopped first": (
        "le paquet n'a pas été écrit : le programme qui le lisait s'est arrêté avant"
    ),
    "Interrupted. Everything done before was kept.": (
        "Interrompu. Tout ce qui avait été fait avant est conservé."
    ),
    "replace FILE even if it is not an earlier bundle": (
        "remplacer FICHIER même s'il n'est pas un paquet précédent"
    ),
    "{file} exists and is not a bundle: choose another name, or add --force to replace it": (
        "{file} existe et n'est pas un paquet : choisissez un autre nom, ou ajoutez --force "
        "pour le remplacer"
    ),
    # argparse's own texts (node/cli_args.py argparse_language)
    "usage: ": "utilisation : ",
    "positional arguments": "arguments positionnels",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "expected one argument": "une valeur est attendue",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (choisir parmi %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "commande inconnue %(parser_name)r (choix : %(choices)s)"
    ),
    "ignored explicit argument %r": "argument explicite ignoré : %r",
    "closed by helper {who}": "clos par l'aidant {who}",
    "A neighbour joins this zone with:": "Un voisin rejoint cette zone avec :",
    # errors raised in node/ (EntraideError.tr)
    "an identity already exists at {path}; replacing it would destroy this household's "
    "identity for good (neighbours would no longer recognise it); refusing to overwrite it "
    "unless explicitly asked to": (
        "une identité existe déjà dans {path} ; la remplacer détruirait pour toujours "
        "l'identité de ce foyer (les voisins ne la reconnaîtraient plus) ; refus de l'écraser "
        "sans demande explicite"
    ),
    "cannot create home directory {home}: {reason}": (
        "impossible de créer le dossier du nœud {home} : {reason}"
    ),
    "cannot open identity key file {path}: {reason}": (
        "impossible d'ouvrir le fichier de clé {path} : {reason}"
    ),
    "cannot read identity key file {path}: {reason}": (
        "impossible de lire le fichier de clé {path} : {reason}"
    ),
    "cannot read {path}: {reason}": ("impossible de lire {path} : {reason}"),
    "cannot write identity key file {path}: {reason}": (
        "impossible d'écrire le fichier de clé {path} : {reason}"
    ),
    "identity key file {path} holds {size} bytes, expected exactly {expected}; restore it "
    "from a backup, or move it away and run `entraide init` for a new identity": (
        "le fichier de clé {path} contient {size} octets au lieu de {expected} exactement ; "
        "restaurez-le depuis une sauvegarde, ou déplacez-le et lancez `entraide init` pour une "
        "nouvelle identité"
    ),
    "identity key file {path} is a symbolic link; put the key file itself there": (
        "le fichier de clé {path} est un lien symbolique ; placez-y le fichier de clé lui-même"
    ),
    "identity key file {path} is accessible to other users (mode {mode}); anyone who can "
    "read it can sign as this household. Fix with: chmod 600 {path}": (
        "le fichier de clé {path} est accessible aux autres utilisateurs (mode {mode}) ; "
        "quiconque peut le lire peut signer au nom de ce foyer. Corrigez avec : chmod 600 "
        "{path}"
    ),
    "identity key file {path} is not a regular file": (
        "le fichier de clé {path} n'est pas un fichier ordinaire"
    ),
    "no configuration in {home} (missing {path}); run `entraide init` first": (
        "aucune configuration dans {home} ({path} manque) ; lancez d'abord `entraide init`"
    ),
    "no identity in {home} (missing {path}); run `entraide init` to create one": (
        "aucune identité dans {home} ({path} manque) ; lancez `entraide init` pour en créer une"
    ),
    "the message store {path} has schema version {version}, but this entraide understands "
    "only up to {known}: it was written by a newer entraide. Upgrade entraide (or move the "
    "file away to start an empty store)": (
        "la base de messages {path} est au format {version}, mais cette version d'entraide ne "
        "comprend que jusqu'au format {known} : elle a été écrite par une version plus "
        "récente. Mettez entraide à jour (ou déplacez le fichier pour repartir d'une base vide)"
    ),
    "{doing}: the disk is full ({path}); free some disk space": (
        "{doing} : le disque est plein ({path}) ; libérez de la place"
    ),
    "{doing}: the message store {path} failed: {reason}": (
        "{doing} : échec de la base de messages {path} : {reason}"
    ),
    "{doing}: the message store {path} is damaged ({reason}); move it away (with its -wal "
    "and -shm files) to start an empty store": (
        "{doing} : la base de messages {path} est endommagée ({reason}) ; déplacez-la (avec "
        "ses fichiers -wal et -shm) pour repartir d'une base vide"
    ),
    "{doing}: the message store {path} is locked by another program ({reason}); is another "
    "entraide node running on the same home directory?": (
        "{doing} : la base de messages {path} est verrouillée par un autre programme "
        "({reason}) ; un autre nœud entraide tourne-t-il sur le même dossier ?"
    ),
    "{doing}: the message store {path} is read-only ({reason})": (
        "{doing} : la base de messages {path} est en lecture seule ({reason})"
    ),
    "{home} exists and is not a directory; choose another home": (
        "{home} existe et n'est pas un dossier ; choisissez un autre dossier de nœud"
    ),
    "{path} is not an entraide message store (not an SQLite database); move it away, or "
    "point entraide at another home directory": (
        "{path} n'est pas une base de messages entraide (pas une base SQLite) ; déplacez-le, "
        "ou indiquez un autre dossier de nœud"
    ),
    "{path} is not valid TOML: {reason}": ("{path} n'est pas du TOML valide : {reason}"),
    "{path} is not valid UTF-8 text": ("{path} n'est pas du texte UTF-8 valide"),
    "{path}: missing key {key} ({expected})": ("{path} : clé {key} manquante ({expected})"),
    "{path}: {key} must be {expected}; found {value}": (
        "{path} : {key} doit être {expected} ; trouvé {value}"
    ),
    'Node stopped ({signal}). Every message received was kept.': (
        'Nœud arrêté ({signal}). Tous les messages reçus ont été gardés.'
    ),
    'no node is running on {home}: start it with `entraide node`': (
        'aucun nœud ne tourne dans {home} : démarrez-le avec `entraide node`'
    ),
    (
        '"{text}" is not a listening address: write it like /ip4/0.0.0.0/tcp/4747 '
        '(/ip6/::/tcp/4747 for IPv6; port 0 picks a free port)'
    ): (
        "« {text} » n'est pas une adresse d'écoute : écrivez-la comme /ip4/0.0.0.0/tcp/4747 "
        '(/ip6/::/tcp/4747 en IPv6 ; le port 0 choisit un port libre)'
    ),
    'expected a number of seconds from 1 to 86400': (
        'un nombre de secondes de 1 à 86400 est attendu'
    ),
    "run this household's node (Wi-Fi gossip, catch-up, the local control socket)": (
        'faire tourner le nœud du foyer (diffusion Wi-Fi, rattrapage, socket de contrôle '
        'local)'
    ),
    (
        "Run the household node until Ctrl-C or SIGTERM: it joins the zone's peers on the "
        "local network (found by mDNS, or from the zone's peer list and --peer), passes signed "
        'messages on, catches up on what it missed after every reconnection, and serves the '
        'terminal app and the other entraide commands through a control socket in the node '
        'directory. Activity is logged on the standard error.'
    ): (
        "Fait tourner le nœud du foyer jusqu'à Ctrl-C ou SIGTERM : il rejoint les pairs de la "
        'zone sur le réseau local (trouvés par mDNS, ou par la liste de pairs de la zone et '
        "--peer), relaie les messages signés, rattrape ce qu'il a manqué après chaque "
        "reconnexion, et sert l'application de terminal et les autres commandes entraide par "
        "un socket de contrôle dans le dossier du nœud. L'activité est journalisée sur la "
        "sortie d'erreur."
    ),
    (
        'Examples:\n  entraide node\n  entraide node --no-mdns --peer '
        '/ip4/192.168.1.20/tcp/4747/p2p/12D3KooW…\n  entraide --home /tmp/n2 node --listen '
        '/ip4/127.0.0.1/tcp/0'
    ): (
        'Exemples :\n  entraide node\n  entraide node --no-mdns --peer '
        '/ip4/192.168.1.20/tcp/4747/p2p/12D3KooW…\n  entraide --home /tmp/n2 node --listen '
        '/ip4/127.0.0.1/tcp/0'
    ),
    'address to listen on (repeatable; default /ip4/0.0.0.0/tcp/4747)': (
        "adresse d'écoute (répétable ; par défaut /ip4/0.0.0.0/tcp/4747)"
    ),
    "also dial this peer, besides the zone's list (repeatable)": (
        'contacter aussi ce pair, en plus de la liste de la zone (répétable)'
    ),
    'do not look for neighbours with multicast DNS (routers that filter multicast)': (
        'ne pas chercher les voisins par DNS multicast (box qui filtrent le multicast)'
    ),
    (
        'how messages spread over Wi-Fi: mesh (each sent on to every mesh neighbour, as '
        'GossipSub does) or announce (each announced, and fetched once by each neighbour: far '
        'fewer duplicate copies); the two work together (default: announce)'
    ): (
        'comment les messages se propagent en Wi-Fi : mesh (chacun transmis à tous les voisins '
        'du maillage, comme le fait GossipSub) ou announce (chacun annoncé, puis demandé une '
        'seule fois par chaque voisin : bien moins de copies en double) ; les deux modes '
        'fonctionnent ensemble (par défaut : announce)'
    ),
    "SECONDS": "SECONDES",
    'catch up with a peer this often, besides every reconnection (default: 60)': (
        'rattraper avec un pair à cet intervalle, en plus de chaque reconnexion (par défaut : '
        '60)'
    ),
    'how much activity to log (default: info)': (
        "quantité d'activité journalisée (par défaut : info)"
    ),
    'ask the running node how it is: peers, catch-up, messages': (
        'demander son état au nœud en marche : pairs, rattrapage, messages'
    ),
    'a node is already running on {home} (stop it first, or give another --home)': (
        "un nœud tourne déjà dans {home} (arrêtez-le d'abord, ou donnez un autre --home)"
    ),
    "Node of household {fingerprint}": "Nœud du foyer {fingerprint}",
    "zone: {name} ({id})": "zone : {name} ({id})",
    'messages since start: {received} received, {published} published, {rejected} rejected': (
        'messages depuis le démarrage : {received} reçus, {published} publiés, {rejected} '
        'refusés'
    ),
    "Wi-Fi: off": "Wi-Fi : désactivé",
    "peer id: {peer}": "identifiant de pair : {peer}",
    "connected peers: {count}": "pairs connectés : {count}",
    "listening on {address}": "à l'écoute sur {address}",
    "last catch-up: {when}": "dernier rattrapage : {when}",
    "last catch-up: not yet": "dernier rattrapage : pas encore",
    'no Wi-Fi at all: only serve the local apps (and files carried by hand)': (
        'sans Wi-Fi : servir seulement les applications locales (et les fichiers apportés à la '
        'main)'
    ),
    # node/cli_args.py, node/cli.py: the radio-emulator command
    "expected a number of radios from 1 to {max}": "un nombre de radios de 1 à {max} est attendu",
    "expected a probability from 0 to 1, e.g. 0.1": (
        "une probabilité de 0 à 1 est attendue, par exemple 0.1"
    ),
    "expected a time scale from {low} to {high} (10: ten times faster than real time)": (
        "une échelle de temps de {low} à {high} est attendue (10 : dix fois plus vite que le "
        "temps réel)"
    ),
    "expected a TCP port from 0 to 65535": "un port TCP de 0 à 65535 est attendu",
    '"{text}" is not a topology: chain, full, or the path of a TOML file': (
        "« {text} » n'est pas une topologie : chain, full, ou le chemin d'un fichier TOML"
    ),
    "emulate Meshtastic radios on this computer, for tests and demonstrations": (
        "émuler des radios Meshtastic sur cet ordinateur, pour les tests et les démonstrations"
    ),
    "Start emulated Meshtastic radios that share a simulated airspace, until Ctrl-C or SIGTERM. "
    "Each one listens on 127.0.0.1 like a radio on the network: point a node or the meshtastic "
    "library at it (TCPInterface, host 127.0.0.1 and the port shown). The airspace behaves like "
    "the firmware: who hears whom, lost frames, managed flooding (relays weighted by signal, "
    "cancelled when another relay is heard), airtime, the duty cycle of the region, the payload "
    "limit and the text rate limit. One line per radio is printed (node id, name, address), one "
    "JSON line with --json; a summary of channel use is printed at the end.": (
        "Démarre des radios Meshtastic émulées qui partagent un espace radio simulé, jusqu'à "
        "Ctrl-C ou SIGTERM. Chacune écoute sur 127.0.0.1 comme une radio du réseau : branchez-y "
        "un nœud ou la bibliothèque meshtastic (TCPInterface, hôte 127.0.0.1 et le port "
        "affiché). L'espace radio se comporte comme le micrologiciel : qui entend qui, trames "
        "perdues, inondation gérée (relais pondérés par le signal, annulés quand un autre relais "
        "est entendu), temps d'antenne, rapport cyclique de la région, taille maximale des "
        "messages et limite de débit des textes. Une ligne par radio est affichée (identifiant, "
        "nom, adresse), une ligne JSON avec --json ; un bilan de l'occupation du canal est "
        "affiché à la fin."
    ),
    "Topology file (TOML): [[radio]] tables with a name, then either [[link]] tables\n"
    '(a = "Mairie", b = "Gare", optional snr, rssi, loss, oneway = true) or a\n'
    "position = [x, y] in metres on every radio (links follow from distance).\n\n"
    "Examples:\n"
    "  entraide radio-emulator\n"
    "  entraide radio-emulator --radios 5 --topology full --loss 0.1\n"
    "  entraide radio-emulator --topology quartier.toml --time-scale 10 --json": (
        "Fichier de topologie (TOML) : des tables [[radio]] avec un nom (name), puis soit des\n"
        'tables [[link]] (a = "Mairie", b = "Gare", et au choix snr, rssi, loss, oneway = true),\n'
        "soit position = [x, y] en mètres sur chaque radio (les liens suivent la distance).\n\n"
        "Exemples :\n"
        "  entraide radio-emulator\n"
        "  entraide radio-emulator --radios 5 --topology full --loss 0.1\n"
        "  entraide radio-emulator --topology quartier.toml --time-scale 10 --json"
    ),
    "number of radios, unless a topology file names them (default: 3)": (
        "nombre de radios, sauf si un fichier de topologie les nomme (par défaut : 3)"
    ),
    "TOPOLOGY": "TOPOLOGIE",
    "who hears whom: chain (each radio hears its neighbours), full (every radio hears every "
    "other) or a TOML file (default: chain)": (
        "qui entend qui : chain (chaque radio entend ses voisines), full (chaque radio entend "
        "toutes les autres) ou un fichier TOML (par défaut : chain)"
    ),
    "probability that a frame is lost on a link, from 0 to 1 (default: 0)": (
        "probabilité qu'une trame se perde sur un lien, de 0 à 1 (par défaut : 0)"
    ),
    "modem preset (default: {value})": "préréglage de modulation (par défaut : {value})",
    "region, which sets the duty cycle: EU_868 allows 10 %% of each hour (default: {value})": (
        "région, qui fixe le rapport cyclique : EU_868 permet 10 %% de chaque heure "
        "(par défaut : {value})"
    ),
    "hop limit the radios give their clients (default: 3)": (
        "nombre maximal de sauts que les radios indiquent à leurs clients (par défaut : 3)"
    ),
    "run the emulated world X times faster than real time: airtime, relay delays, rate limits "
    "and the duty-cycle hour alike (default: 1)": (
        "faire tourner le monde émulé X fois plus vite que le temps réel : temps d'antenne, "
        "délais des relais, limites de débit et heure du rapport cyclique (par défaut : 1)"
    ),
    "PORT": "PORT",
    "port of the first radio, the next ones follow (default: 0, free ports)": (
        "port de la première radio, les suivantes prennent les suivants (par défaut : 0, des "
        "ports libres)"
    ),
    "seed of the random draws (losses, delays): the same seed replays a run": (
        "graine des tirages aléatoires (pertes, délais) : la même graine rejoue une exécution"
    ),
    "name of the next radio (repeatable; default: Radio 0, Radio 1, …)": (
        "nom de la radio suivante (répétable ; par défaut : Radio 0, Radio 1, …)"
    ),
    "write log text between frames, as a radio with debug output does": (
        "écrire du texte de journal entre les trames, comme une radio en mode débogage"
    ),
    "cannot use topology {topology}: {error}": (
        "impossible d'utiliser la topologie {topology} : {error}"
    ),
    "{count} emulated radios ({preset}, {region}, topology {topology}, time ×{scale}); "
    "Ctrl-C to stop:": (
        "{count} radios émulées ({preset}, {region}, topologie {topology}, temps ×{scale}) ; "
        "Ctrl-C pour arrêter :"
    ),
    "cannot open the radios' ports: {error}": (
        "impossible d'ouvrir les ports des radios : {error}"
    ),
    "Emulator stopped ({signal}) after {seconds} s of simulated time; "
    "{count} frames on the air.": (
        "Émulateur arrêté ({signal}) après {seconds} s de temps simulé ; "
        "{count} trames émises."
    ),
    "{node_id} {name}: sent {sent} frames ({relayed} relayed), {airtime} s on the air; "
    "channel busy {busy} % of the last minute; duty cycle {used} % of {limit} %": (
        "{node_id} {name} : {sent} trames émises ({relayed} relayées), {airtime} s d'antenne ; "
        "canal occupé {busy} % de la dernière minute ; rapport cyclique {used} % sur {limit} %"
    ),
    # tui/ (the terminal app) and `entraide tui`
    "Node started in the background (log: {log})": (
        "Nœud démarré en arrière-plan (journal : {log})"
    ),
    "New version of {what}": "Nouvelle version de : {what}",
    "Not connected to the node: nothing was sent.": (
        "Pas de connexion au nœud : rien n'a été envoyé."
    ),
    "Lost the connection to the node; trying again…": (
        "Connexion au nœud perdue ; nouvelle tentative…"
    ),
    "Could not start the node: {reason}": "Impossible de démarrer le nœud : {reason}",
    "Your neighbours will see that you are safe.": (
        "Vos voisins verront que vous êtes en sécurité."
    ),
    "lasts": "durée de validité",
    'a message of kind "{kind}" lasts at most {max}': (
        "un message de type « {kind} » dure au plus {max}"
    ),
    "64 hex digits": "64 chiffres hexadécimaux",
    "e.g. 30m, 4h, 3d": "par exemple 30m, 4h, 3j",
    "latitude,longitude, e.g. {example}": "latitude,longitude, par exemple {example}",
    "e.g. {example}": "par exemple {example}",
    "choose one": "choisissez une valeur",
    "Active alerts ({n})": "Alertes en cours ({n})",
    "Active alerts": "Alertes en cours",
    "Only its author can update this message.": (
        "Seul son auteur peut mettre à jour ce message."
    ),
    "No active alert.": "Aucune alerte en cours.",
    "Select a line first.": "Choisissez d'abord une ligne.",
    "Only another household can confirm what you reported.": (
        "Seul un autre foyer peut confirmer ce que vous avez signalé."
    ),
    "official": "source officielle",
    "confirmed": "vérification faite",
    "corroborated": "témoins voisins",
    "unverified": "à vérifier",
    "marked false": "démenti",
    "verification": "vérification",
    "New {kind}": "Nouveau message : {kind}",
    "Post a message": "Publier un message",
    "Post": "Publier",
    "Cancel": "Annuler",
    "Choose…": "Choisir…",
    "message id": "identifiant du message",
    "its first 4 hex digits or more": "au moins ses 4 premiers chiffres hexadécimaux",
    "Message": "Message",
    "Help requests ({n})": "Demandes d'aide ({n})",
    "Help offers ({n})": "Offres d'aide ({n})",
    "by": "par",
    "[{n} comments]": "[{n} commentaires]",
    "my claims: {n}": "mes prises en charge : {n}",
    "This request is already resolved.": "Cette demande est déjà résolue.",
    "(mine)": "(la mienne)",
    "you": "vous",
    "Only mine": "Les miennes",
    "Hide resolved": "Sans les résolues",
    "any need": "tout besoin",
    "any urgency": "toute urgence",
    "at least {urgency}": "au moins {urgency}",
    "Your fingerprint": "Votre empreinte",
    "Aid zone": "Zone d'entraide",
    "Settings": "Réglages",
    "English (press l for French)": "français (touche l pour l'anglais)",
    "on (press ctrl+t to turn off)": "activé (ctrl+t pour le désactiver)",
    "off (press ctrl+t to turn on)": "désactivé (ctrl+t pour l'activer)",
    "Read it aloud to a neighbour who runs `entraide whoami`: if the digits match, the key "
    "you see is really theirs.": (
        "Lisez-la à voix haute à un voisin qui lance `entraide whoami` : si les chiffres"
        " sont les mêmes, la clé que vous voyez est bien la sienne."
    ),
    "Household key: {key}": "Clé du foyer : {key}",
    "trusted bridges": "passerelles agréées",
    "Zone settings are changed on the command line: entraide init --force": (
        "Les réglages de la zone se changent en ligne de commande : entraide init --force"
    ),
    "high contrast": "contraste élevé",
    "Not heard from ({n})": "Sans nouvelles ({n})",
    "I check on ({n})": "Je veille sur ({n})",
    "Check-ins ({n})": "Nouvelles ({n})",
    "latest news": "dernières nouvelles",
    "safe": "en sécurité",
    "need help": "besoin d'aide",
    "other": "autre",
    "households": "foyers",
    "Your visit to {who}": "Votre visite à {who}",
    "Not heard from": "Sans nouvelles",
    "By street": "Par rue",
    "I check on": "Je veille sur",
    "No real alert is active: everyone's latest news is below.": (
        "Aucune alerte réelle en cours : les dernières nouvelles de chacun sont ci-dessous."
    ),
    "{n} households not heard from": "{n} foyers sans nouvelles",
    "Since the alert of {time}:": "Depuis l'alerte du {time} :",
    "(no place given)": "(lieu non précisé)",
    "Press [b]s[/b] to tell your neighbours you are safe.": (
        "Appuyez sur [b]s[/b] pour dire à vos voisins que vous êtes en sécurité."
    ),
    "Wi-Fi off": "Wi-Fi coupé",
    "No news given yet.": "Vous n'avez pas encore donné de nouvelles.",
    "Open requests": "Demandes ouvertes",
    "Being handled": "Prises en charge",
    "Network": "Réseau",
    "Not heard from since the alert": "Sans nouvelles depuis l'alerte",
    "Peers": "Pairs",
    "Radio link": "Liaison radio",
    "connected": "connectée",
    "disconnected": "déconnectée",
    "Airtime used": "Temps d'antenne",
    "Last sync": "Dernière synchro",
    "Bridge last seen": "Passerelle vue",
    "Messages": "Messages",
    "My household": "Mon foyer",
    "Around me": "Autour de moi",
    "(reported by {who})": "(signalé par {who})",
    "Older than the latest alert.": "Plus ancien que la dernière alerte.",
    "no real alert": "aucune alerte réelle",
    "Incidents ({n})": "Incidents ({n})",
    "Resource points ({n})": "Points de ressources ({n})",
    "expected in {eta}": "arrivée prévue dans {eta}",
    "by {who}": "par {who}",
    "Add resource point": "Ajouter un point de ressources",
    "Ask for help": "Demander de l'aide",
    "Claim": "Je m'en occupe",
    "Close": "Fermer",
    "Close mine": "Clore le mien",
    "Comment": "Commenter",
    "Contrast": "Contraste",
    "Filter": "Filtrer",
    "I saw it too": "Je l'ai vu aussi",
    "Mark": "Vérifier",
    "I visited them": "J'y suis passé",
    "I'm safe": "Je suis en sécurité",
    "My news": "Mes nouvelles",
    "New alert": "Nouvelle alerte",
    "Offer help": "Proposer de l'aide",
    "Open": "Ouvrir",
    "Quit": "Quitter",
    "Report incident": "Signaler un incident",
    "Resolve": "Clore",
    "Update mine": "Mettre à jour le mien",
    "Overview": "Vue d'ensemble",
    "Help": "Entraide",
    "Neighbours": "Voisins",
    "Places": "Lieux",
    "Identity": "Identité",
    "no node": "pas de nœud",
    "{n} peers": "{n} pairs",
    "starting the node…": "démarrage du nœud…",
    "connecting…": "connexion…",
    "({n} alerts)": "({n} alertes)",
    "node": "nœud",
    "no Wi-Fi": "sans Wi-Fi",
    "open the terminal app (also what `entraide` alone does on a terminal)": (
        "ouvrir l'application dans le terminal (ce que fait aussi `entraide` seul dans un"
        " terminal)"
    ),
    "The terminal app for neighbours and relays: alerts, help board, check-ins, incidents "
    "and resource points. It talks to this household's node, and starts it in the "
    "background if none is running (log: node.log in the node directory).": (
        "L'application dans le terminal, pour les voisins et les relais : alertes, entraide,"
        " nouvelles des foyers, incidents et points de ressources. Elle parle au nœud de ce"
        " foyer et le démarre en arrière-plan s'il ne tourne pas (journal : node.log dans le"
        " dossier du nœud)."
    ),
    "if the app has to start the node: start it without Wi-Fi": (
        "si l'application doit démarrer le nœud : le démarrer sans Wi-Fi"
    ),
    "white and yellow on black, for low vision or bright light": (
        "blanc et jaune sur noir, pour les malvoyants ou en plein soleil"
    ),
    'LoRa radio (a Meshtastic device)': 'radio LoRa (un appareil Meshtastic)',
    'DEVICE': 'APPAREIL',
    (
        "the node's Meshtastic radio: tcp:HOST[:PORT] (a networked device, or `entraide "
        'radio-emulator`) or serial:/dev/ttyUSB0'
    ): (
        'la radio Meshtastic du nœud : tcp:HÔTE[:PORT] (un appareil en réseau, ou `entraide '
        'radio-emulator`) ou serial:/dev/ttyUSB0'
    ),
    (
        "the mesh's modem preset, for the airtime budget (default: the zone charter's, else "
        "LONG_FAST)"
    ): (
        "le préréglage de modem du maillage, pour le budget de temps d'antenne (par défaut : "
        "celui de la charte de la zone, sinon LONG_FAST)"
    ),
    (
        "the radio region, for its duty cycle (default: the zone charter's, else EU_868, "
        "10 %% per hour)"
    ): (
        "la région radio, pour son rapport cyclique (par défaut : celle de la charte de la "
        "zone, sinon EU_868, 10 %% par heure)"
    ),
    "language of the texts sent to handsets (default: the node's)": (
        'langue des textes envoyés aux terminaux (par défaut : celle du nœud)'
    ),
    (
        '"{text}" is not a radio: write tcp:HOST[:PORT] (e.g. tcp:127.0.0.1:4403) or '
        'serial:DEVICE (e.g. serial:/dev/ttyUSB0)'
    ): (
        "« {text} » n'est pas une radio : écrivez tcp:HÔTE[:PORT] (par ex. tcp:127.0.0.1:4403) "
        'ou serial:APPAREIL (par ex. serial:/dev/ttyUSB0)'
    ),
    # --- node/bridge/, node/report/ and their commands (the town-hall bridge) ---
    "{path} has no [bridge] table: a bridge needs its official sources and the zone's area "
    '(see the README, "Town-hall bridge")': (
        "{path} n'a pas de table [bridge] : une passerelle a besoin de ses sources officielles "
        "et de la zone couverte (voir le README, « Town-hall bridge »)"
    ),
    "{path}: [bridge.area] is empty: give the zone's polygon, circle or geocodes": (
        "{path} : [bridge.area] est vide : donnez le polygone, le cercle ou les géocodes de la "
        "zone"
    ),
    "{path}: the bridge has nothing to read: add a [[bridge.source]] or a folder": (
        "{path} : la passerelle n'a rien à lire : ajoutez une [[bridge.source]] ou un dossier"
    ),
    "{path}: [bridge] {key} must be {expected}; found {value}": (
        "{path} : [bridge] {key} doit être {expected} ; trouvé : {value}"
    ),
    # node/cli.py (bridge, report)
    "Bridge key {key} (fingerprint {fingerprint}): the zone's coordinator adds it to "
    "bridge_keys on every node, or their nodes ignore its alerts.": (
        "Clé de passerelle {key} (empreinte {fingerprint}) : la coordination de la zone "
        "l'ajoute aux bridge_keys de chaque nœud, sans quoi ces nœuds ignorent ses alertes."
    ),
    "Bridge stopped ({signal}). Every message received was kept.": (
        "Passerelle arrêtée ({signal}). Tous les messages reçus ont été conservés."
    ),
    "mirrored": "relayée",
    "cancelled": "annulée",
    "not mirrored": "non relayée",
    "rejected": "refusée",
    "link not followed": "lien non suivi",
    "nothing new": "rien de nouveau",
    "{source}: not read ({reason}); the alerts already mirrored stay": (
        "{source} : non lue ({reason}) ; les alertes déjà relayées restent"
    ),
    "give the report's folder: entraide report verify DIR": (
        "indiquez le dossier du rapport : entraide report verify DOSSIER"
    ),
    "Signature valid: {count} file(s) signed by the key of fingerprint {fingerprint}.": (
        "Signature valide : {count} fichier(s) signé(s) par la clé d'empreinte {fingerprint}."
    ),
    "Report written and signed:": "Rapport écrit et signé :",
    "Signer fingerprint: {fingerprint} (check it with: entraide report verify {dir})": (
        "Empreinte du signataire : {fingerprint} (vérifiez avec : entraide report verify {dir})"
    ),
    # node/cli_args.py (bridge, report)
    "run this node as the town-hall bridge: official alerts in, signed mirrors out": (
        "faire de ce nœud la passerelle de la mairie : alertes officielles relayées et signées"
    ),
    "Run the node (Wi-Fi, control socket, optional radio) and mirror official CAP alerts "
    "into the zone: it reads the sources and folders of the [bridge] table of bridge.toml in "
    "the node directory, keeps the alerts whose area touches the zone's, and signs each one "
    "with this node's key, the bridge key. Updates and cancellations replace or withdraw "
    "what was mirrored; a source that fails changes nothing. The bridge key is printed at "
    "start: the zone's coordinator adds it to the bridge keys of every node.": (
        "Fait tourner le nœud (Wi-Fi, socket de contrôle, radio en option) et relaie dans la "
        "zone les alertes officielles CAP : il lit les sources et les dossiers de la table "
        "[bridge] de bridge.toml, dans le dossier du nœud, garde les alertes dont la zone touche "
        "celle du quartier, et "
        "signe chacune avec la clé de ce nœud, la clé de passerelle. Les mises à jour et les "
        "annulations remplacent ou retirent ce qui a été relayé ; une source en panne ne "
        "change rien. La clé de passerelle est affichée au démarrage : la coordination de la "
        "zone l'ajoute aux clés de passerelle de chaque nœud."
    ),
    "Examples:\n"
    "  entraide bridge\n"
    "  entraide bridge --once --json\n"
    "  entraide bridge --offline --log-level debug": (
        "Exemples :\n"
        "  entraide bridge\n"
        "  entraide bridge --once --json\n"
        "  entraide bridge --offline --log-level debug"
    ),
    "read every source once, store what it mirrors and exit (exit code 4 if a source could "
    "not be read)": (
        "lire chaque source une fois, enregistrer ce qui est relayé et quitter (code de sortie "
        "4 si une source n'a pas pu être lue)"
    ),
    "write a signed situation report, or the reflex sheet, for the authorities": (
        "écrire un point de situation signé, ou la fiche réflexe, pour les autorités"
    ),
    "situation: the zone's situation for the mayor and the emergency services (open help "
    "requests by urgency, households not heard from since the alert, vulnerable neighbours "
    "not yet visited, incidents, resource points) as GeoJSON, CSV, a printable HTML page and "
    "a PDF. reflex: the printable reflex sheet and phone tree, for when every network is "
    "down. Files are signed with this node's key (manifest.txt and manifest.sig); verify DIR "
    "checks them.": (
        "situation : le point de situation de la zone pour le maire et les secours (demandes "
        "d'aide en cours par urgence, foyers sans nouvelles depuis l'alerte, voisins "
        "vulnérables pas encore visités, incidents, points de ressources) en GeoJSON, en CSV, "
        "en page HTML imprimable et en PDF. reflex : la fiche réflexe et l'arbre d'appel "
        "imprimables, pour quand plus aucun réseau ne fonctionne. Les fichiers sont signés "
        "avec la clé de ce nœud (manifest.txt et manifest.sig) ; verify DOSSIER les vérifie."
    ),
    "Examples:\n"
    "  entraide report --out /media/usb/rapport\n"
    "  entraide report reflex --contacts contacts.csv\n"
    "  entraide report verify /media/usb/rapport": (
        "Exemples :\n"
        "  entraide report --out /media/usb/rapport\n"
        "  entraide report reflex --contacts contacts.csv\n"
        "  entraide report verify /media/usb/rapport"
    ),
    "what to write, or verify a report (default: situation)": (
        "quoi écrire, ou vérifier un rapport (par défaut : situation)"
    ),
    "the report's folder (verify)": "le dossier du rapport (verify)",
    "folder to write into (default: reports in the node directory)": (
        "dossier où écrire (par défaut : reports dans le dossier du nœud)"
    ),
    "count households not heard from since this time (default: the alert's start)": (
        "compter les foyers sans nouvelles depuis ce moment (par défaut : le début de l'alerte)"
    ),
    "only this format (repeatable; default: all)": (
        "seulement ce format (répétable ; par défaut : tous)"
    ),
    "(reflex) CSV file of the phone tree: name, phone, role, place": (
        "(reflex) fichier CSV de l'arbre d'appel : name, phone, role, place"
    ),
    "(verify) the key the report must be signed by": (
        "(verify) la clé qui doit avoir signé le rapport"
    ),
    # node/report/
    "Situation report": "Point de situation",
    "Help requests not yet resolved (most urgent first)": (
        "Demandes d'aide non résolues (les plus urgentes d'abord)"
    ),
    "Households not heard from since the alert": "Foyers sans nouvelles depuis l'alerte",
    "Vulnerable neighbours not yet visited": "Voisins vulnérables pas encore visités",
    "Only a relay's node can read the check-on-me roster: ask a relay of the zone for this "
    "list.": (
        "Seul le nœud d'un relais peut lire le registre des personnes à visiter : demandez "
        "cette liste à un relais de la zone."
    ),
    "no alert in progress": "aucune alerte en cours",
    "Zone": "Zone",
    "Generated": "Établi le",
    "Counted since": "Compté depuis",
    "Signed by (key)": "Signé par (clé)",
    "Signer fingerprint": "Empreinte du signataire",
    "Latest news of each household": "Dernières nouvelles de chaque foyer",
    "None.": "Aucun.",
    "hours": "horaires",
    "since": "depuis",
    "no news since the alert": "sans nouvelles depuis l'alerte",
    "asked for help": "a demandé de l'aide",
    "nobody home at the last visit": "personne à la dernière visite",
    "Reflex sheet: when every network is down": (
        "Fiche réflexe : quand plus aucun réseau ne fonctionne"
    ),
    "printed": "imprimée le",
    "Reflexes": "Réflexes",
    "Siren or danger: go indoors at once, close doors and windows, stop ventilation and "
    "heating.": (
        "Sirène ou danger : rentrez tout de suite dans un bâtiment, fermez portes et fenêtres, "
        "arrêtez ventilation et chauffage."
    ),
    "Listen to the radio (batteries or car): France Bleu, France Inter. Follow the "
    "authorities' instructions.": (
        "Écoutez la radio (à piles ou en voiture) : France Bleu, France Inter. Suivez les "
        "consignes des autorités."
    ),
    "Do not fetch your children from school: the school looks after them.": (
        "N'allez pas chercher vos enfants à l'école : l'école s'occupe d'eux."
    ),
    "Keep the phone lines free: call 112 (or 15, 17, 18; 114 by text) only for a life at "
    "risk.": (
        "Libérez les lignes : n'appelez le 112 (ou le 15, le 17, le 18 ; le 114 par SMS) que "
        "si une vie est en danger."
    ),
    "Call the households of your branch of the phone tree, in order; write down who did not "
    "answer and tell whoever calls you.": (
        "Appelez les foyers de votre branche de l'arbre d'appel, dans l'ordre ; notez qui n'a "
        "pas répondu et dites-le à qui vous appelle."
    ),
    "If your home is not safe, go to a resource point below; leave a note on your door "
    "saying where you went.": (
        "Si votre logement n'est pas sûr, rejoignez un point de ressources ci-dessous ; "
        "laissez un mot sur votre porte pour dire où vous êtes allés."
    ),
    "When a node or a radio works again, post a check-in for each household you reached.": (
        "Quand un nœud ou une radio fonctionne à nouveau, donnez des nouvelles de chaque foyer "
        "joint."
    ),
    "Emergency numbers": "Numéros d'urgence",
    "number": "numéro",
    "for": "pour",
    "any emergency (Europe)": "toute urgence (Europe)",
    "medical emergency (SAMU)": "urgence médicale (SAMU)",
    "police": "police",
    "fire brigade": "pompiers",
    "emergency by text message (deaf or unable to speak)": (
        "urgence par SMS (personnes sourdes ou ne pouvant pas parler)"
    ),
    "Phone tree": "Arbre d'appel",
    "No contacts file was given: fill in the tree by hand, one line per call.": (
        "Aucun fichier de contacts n'a été donné : remplissez l'arbre à la main, une ligne par "
        "appel."
    ),
    "who calls": "qui appelle",
    "calls": "appelle",
    "phone": "téléphone",
    "reached?": "joint ?",
    "None known yet: write the meeting point here.": (
        "Aucun connu pour l'instant : notez ici le point de rassemblement."
    ),
    "Official alerts are signed by": "Les alertes officielles sont signées par",
    "No bridge key is configured for this zone.": (
        "Aucune clé de passerelle n'est configurée pour cette zone."
    ),
    "the contacts file needs the columns name and phone (and role, place)": (
        "le fichier de contacts doit avoir les colonnes name et phone (et role, place)"
    ),
    "the contacts file has more than {max} rows": (
        "le fichier de contacts a plus de {max} lignes"
    ),
    # --- end of the town-hall bridge ---
    (
        "LoRa catch-up: send a summary of recent messages to the radio's direct neighbours "
        "this often, unless one of theirs was just heard, so they send what this node missed "
        "(default: 1800)"
    ): (
        "rattrapage LoRa : envoyer à cet intervalle un résumé des messages récents aux "
        "voisins directs de la radio, sauf si l'un d'eux vient d'envoyer le sien, pour qu'ils "
        "envoient ce que ce nœud a manqué (par défaut : 1800)"
    ),
    # --- entraide demo (node/demo.py, node/cli_args.py) ---
    "a small simulated neighbourhood on this computer, then the app on one household": (
        "un petit quartier simulé sur cet ordinateur, puis l'application chez un foyer"
    ),
    "Start, on this computer only, eight household nodes in two Wi-Fi islands joined by "
    "emulated LoRa radios, two volunteers' handsets, the town-hall bridge reading a local feed "
    "that replays a SEVESO exercise, and neighbours who post requests, offers and check-ins "
    "over a few minutes; then open the terminal app on one household. Quitting stops "
    "everything the demo started and removes its folder.": (
        "Démarre, sur cet ordinateur seulement, huit nœuds de foyers répartis en deux îlots "
        "Wi-Fi reliés par des radios LoRa émulées, les boîtiers de deux bénévoles, la "
        "passerelle de la mairie qui lit un flux local rejouant un exercice SEVESO, et des "
        "voisins qui publient demandes, offres et nouvelles pendant quelques minutes ; puis "
        "ouvre l'application en terminal chez un foyer. Quitter arrête tout ce que la "
        "démonstration a lancé et supprime son dossier."
    ),
    "Examples:\n  entraide demo\n  entraide demo --lang en\n"
    "  entraide demo --headless --duration 60 --json": (
        "Exemples :\n  entraide demo\n  entraide demo --lang en\n"
        "  entraide demo --headless --duration 60 --json"
    ),
    "no app: run for --duration seconds, then print what every part did": (
        "sans application : tourne pendant --duration secondes, puis affiche ce que chaque "
        "partie a fait"
    ),
    "how long the scenario lasts (default: 60 s with --headless, 180 s with the app)": (
        "durée du scénario (par défaut : 60 s avec --headless, 180 s avec l'application)"
    ),
    "folder for the demo's nodes, new or empty (default: a temporary folder)": (
        "dossier des nœuds de la démonstration, nouveau ou vide (par défaut : un dossier "
        "temporaire)"
    ),
    "keep the folder afterwards, with every node's log and store": (
        "garder le dossier ensuite, avec le journal et les messages de chaque nœud"
    ),
    "Rue des Lilas and the station (demo)": "Rue des Lilas et la Gare (démo)",
    "No more water from the tap since this morning": "Plus d'eau au robinet depuis ce matin",
    "Water cans in my garage, bring a bag": "Bidons d'eau dans mon garage, venez avec un sac",
    "Elderly neighbour fell down the stairs": "Voisine âgée tombée dans l'escalier",
    "Bringing two water cans": "J'apporte deux bidons",
    "A tree blocks the road": "Un arbre barre la route",
    "Station gym": "Gymnase de la Gare",
    "Bottled water, 6 litres per household": "Eau en bouteille, 6 litres par foyer",
    "Two water cans delivered": "Deux bidons livrés",
    "radio emulator: {radios} (LoRa time ×{scale}); official feed: {url}": (
        "émulateur radio : {radios} (temps LoRa ×{scale}) ; flux officiel : {url}"
    ),
    "starting {count} households in two Wi-Fi islands ({a} and {b})…": (
        "démarrage de {count} foyers en deux îlots Wi-Fi ({a} et {b})…"
    ),
    "town-hall bridge…": "passerelle de la mairie…",
    "{name} stopped while starting:\n{log}": "{name} s'est arrêté au démarrage :\n{log}",
    "{name} did not answer within {seconds} s:\n{log}": (
        "{name} n'a pas répondu en {seconds} s :\n{log}"
    ),
    "stopping {count} processes…": "arrêt de {count} processus…",
    "handsets: {names}…": "boîtiers : {names}…",
    "handset {name} did not connect: {error}": (
        "le boîtier {name} ne s'est pas connecté : {error}"
    ),
    "Demo summary: {seconds} s of scenario (everything was up after {ready} s; LoRa time "
    "×{scale}).": (
        "Bilan de la démonstration : {seconds} s de scénario (tout était prêt après {ready} s ; "
        "temps LoRa ×{scale})."
    ),
    "LoRa: {ab} message(s) from {a} reached {b}, {ba} the other way; {frames} frames on the "
    "air.": (
        "LoRa : {ab} message(s) sont passés de « {a} » à « {b} », {ba} dans l'autre sens ; "
        "{frames} trames émises."
    ),
    "Official alert (SEVESO exercise, {published}): reached {count} of {total} households.": (
        "Alerte officielle (exercice SEVESO, {published}) : reçue par {count} foyers sur "
        "{total}."
    ),
    "not reached: {names}": "pas reçue par : {names}",
    "{name} ({island}): {count} message(s), official alert {when}": (
        "{name} ({island}) : {count} message(s), alerte officielle {when}"
    ),
    "{seconds} s after it was published": "{seconds} s après sa publication",
    "not received": "pas reçue",
    "Handset {name} ({node_id}): sent {sent}; received {count} text(s).": (
        "Boîtier {name} ({node_id}) : a envoyé {sent} ; a reçu {count} texte(s)."
    ),
    "From handset {name}: {kind} {id}, witnessed by {witness}, held in {islands}.": (
        "Du boîtier {name} : {kind} {id}, attesté par {witness}, présent dans : "
        "{islands}."
    ),
    "{a} and {b}": "{a} et {b}",
    "Processes: {count} started, {left} left running.": (
        "Processus : {count} lancés, {left} encore en marche."
    ),
    "Every part worked.": "Chaque partie a fonctionné.",
    "Some parts did not work.": "Certaines parties n'ont pas fonctionné.",
    "messages crossed LoRa both ways": "des messages ont traversé LoRa dans les deux sens",
    "the official alert reached every household": "l'alerte officielle a atteint chaque foyer",
    "every handset received texts": "chaque boîtier a reçu des textes",
    "a handset's SOS reached both islands": "le SOS d'un boîtier a atteint les deux îlots",
    "nothing is left running": "plus rien ne tourne",
    "{dir} is too long a path for the nodes' control sockets: choose a shorter one (such as "
    "/tmp/demo)": (
        "{dir} est un chemin trop long pour les sockets de contrôle des nœuds : choisissez-en "
        "un plus court (comme /tmp/demo)"
    ),
    "{dir} is not an empty folder: give a new or empty one": (
        "{dir} n'est pas un dossier vide : donnez un dossier nouveau ou vide"
    ),
    "Starting the neighbourhood demo in {dir}": "Démarrage de la démonstration dans {dir}",
    "Ready after {seconds} s; running the scenario for {duration} s…": (
        "Prêt après {seconds} s ; scénario pendant {duration} s…"
    ),
    "Ready after {seconds} s. Opening the app on household {name} ({island}), which has no "
    "radio: what comes from {other} crossed LoRa. Quit with q.": (
        "Prêt après {seconds} s. Ouverture de l'application chez le foyer {name} ({island}), "
        "qui n'a pas de radio : ce qui vient de la {other} a traversé LoRa. Quitter avec q."
    ),
    "Demo stopped: nothing is left running.": (
        "Démonstration arrêtée : plus rien ne tourne."
    ),
    "The demo's folder is kept: {dir}": "Le dossier de la démonstration est gardé : {dir}",
    # --- end of entraide demo ---
    # --- entraide simulate (node/cli_args.py, node/sim/command.py, node/sim/report.py) ---
    "expected a whole number from {low} to {high}": "attendu : un nombre entier de {low} à {high}",
    "expected a number of hours from 0.05 to 24": "attendu : un nombre d'heures de 0,05 à 24",
    "simulate a whole town of nodes in virtual time and print the figures": (
        "simuler toute une ville de nœuds en temps virtuel et afficher les chiffres"
    ),
    "Run the simulator: a thousand nodes or more, driving the real protocol core (signed "
    "messages and their checks, catch-up sessions, radio framing, airtime scheduler, LoRa "
    "airspace) over simulated Wi-Fi links and a simulated LoRa airspace, and print each figure "
    "next to its reference and its goal. alert: time for an alert to reach 99 % of the nodes "
    "over lossy links, and duplicate receptions, per gossip configuration; heal: a town cut in "
    "two for 24 h, then whole again; churn: households leaving and coming back while alerts "
    "flow; lora: channel utilisation of a LoRa neighbourhood. Nothing is sent on any network.": (
        "Lance le simulateur : mille nœuds ou plus, qui font tourner le vrai cœur du protocole "
        "(messages signés et leurs vérifications, sessions de rattrapage, trames radio, "
        "ordonnanceur de temps d'antenne, espace radio LoRa) sur des liens Wi-Fi et un espace "
        "LoRa simulés, et affiche chaque chiffre à côté de sa référence et de son objectif. "
        "alert : temps pour qu'une alerte atteigne 99 % des nœuds sur des liens qui perdent des "
        "paquets, et réceptions en double, par configuration de diffusion ; heal : une ville "
        "coupée en deux pendant 24 h, puis réunie ; churn : des foyers qui partent et reviennent "
        "pendant que des alertes circulent ; lora : occupation du canal d'un quartier en LoRa. "
        "Rien n'est envoyé sur aucun réseau."
    ),
    "Examples:\n"
    "  entraide simulate alert --nodes 1000 --loss 0.2\n"
    "  entraide simulate --quick\n"
    "  entraide simulate lora --hours 1 --json": (
        "Exemples :\n"
        "  entraide simulate alert --nodes 1000 --loss 0.2\n"
        "  entraide simulate --quick\n"
        "  entraide simulate lora --hours 1 --json"
    ),
    "FIGURE": "CHIFFRE",
    "which figures: alert, heal, churn, lora (default: all)": (
        "quels chiffres : alert, heal, churn, lora (par défaut : tous)"
    ),
    "Wi-Fi nodes in the town (default: 1000; 200 with --quick)": (
        "nœuds Wi-Fi de la ville (par défaut : 1000 ; 200 avec --quick)"
    ),
    "share of what each Wi-Fi link carries that is lost (default: 0.2)": (
        "part de ce que porte chaque lien Wi-Fi qui est perdue (par défaut : 0.2)"
    ),
    "gossip configuration of the alert figure (repeatable; default: gossipsub, gossipsub-d3, "
    "announce-eager1 and announce; announce is what entraide node runs by default, gossipsub "
    "what it runs with --gossip mesh)": (
        "configuration de diffusion du chiffre alert (répétable ; par défaut : gossipsub, "
        "gossipsub-d3, announce-eager1 et announce ; announce est ce que fait entraide node par "
        "défaut, gossipsub ce qu'il fait avec --gossip mesh)"
    ),
    "alerts posted in the alert figure (default: 10)": (
        "alertes publiées dans le chiffre alert (par défaut : 10)"
    ),
    "households with a radio in the lora figure (default: 150; 50 with --quick)": (
        "foyers équipés d'une radio dans le chiffre lora (par défaut : 150 ; 50 avec --quick)"
    ),
    "hours of LoRa traffic measured (default: 1; 0.25 with --quick)": (
        "heures de trafic LoRa mesurées (par défaut : 1 ; 0.25 avec --quick)"
    ),
    "seed of every random choice: the same seed gives the same run (default: 1)": (
        "graine de tous les tirages au hasard : la même graine donne la même simulation "
        "(par défaut : 1)"
    ),
    "a small town and a short hour: seconds instead of minutes": (
        "une petite ville et un quart d'heure : des secondes au lieu de minutes"
    ),
    "simulating {what}…": "simulation : {what}…",
    "alerts over gossip ({preset})": "alertes diffusées ({preset})",
    "a partition healing": "une coupure qui se referme",
    "households leaving and returning": "des foyers qui partent et reviennent",
    "LoRa: {name}": "LoRa : {name}",
    "Simulated in {seconds} s (seed {seed}).": "Simulé en {seconds} s (graine {seed}).",
    "{goal}: PASS": "{goal} : ATTEINT",
    "{goal}: no": "{goal} : non",
    "never": "jamais",
    "figure": "chiffre",
    "measured": "mesuré",
    "anchor": "référence",
    "goal": "objectif",
    "{preset}: time for an alert to reach 99 % of {nodes} nodes, {loss} loss (worst of "
    "{alerts} alerts)": (
        "{preset} : temps pour qu'une alerte atteigne 99 % de {nodes} nœuds, {loss} de perte "
        "(la pire de {alerts} alertes)"
    ),
    "{worst} (median {median}; every node: {all})": (
        "{worst} (médiane {median} ; tous les nœuds : {all})"
    ),
    "push-pull gossip ≈ 8.2 rounds at 1,000 nodes; a D=6 mesh ≈ 4.3 hops across": (
        "rumeur push-pull ≈ 8,2 tours à 1 000 nœuds ; un maillage D=6 ≈ 4,3 sauts de bout en "
        "bout"
    ),
    "{preset}: duplicate receptions per node per message": (
        "{preset} : réceptions en double par nœud et par message"
    ),
    "{duplicates} ({payload} B of envelopes and {control} B of control sent per node per "
    "alert)": (
        "{duplicates} ({payload} o d'enveloppes et {control} o de contrôle envoyés par nœud et "
        "par alerte)"
    ),
    "GossipSub ≈ 2–3 (Ethereum ≈ 3 at D=8; (D−2)/2 ≈ 2 at D=6)": (
        "GossipSub ≈ 2–3 (Ethereum ≈ 3 à D=8 ; (D−2)/2 ≈ 2 à D=6)"
    ),
    "24 h partition healed: every one of {nodes} nodes holds the union of {union} messages "
    "({during} posted during the cut)": (
        "coupure de 24 h refermée : chacun des {nodes} nœuds détient l'union des {union} "
        "messages ({during} publiés pendant la coupure)"
    ),
    "{all} after the first link back (99 %: {p99}; {sessions} catch-up sessions, {failed} "
    "failed)": (
        "{all} après le retour du premier lien (99 % : {p99} ; {sessions} sessions de "
        "rattrapage, {failed} en échec)"
    ),
    "24 h partition: catch-up control traffic / envelope bytes moved": (
        "coupure de 24 h : trafic de contrôle du rattrapage / octets d'enveloppes transférés"
    ),
    "{share} ({control} B / {envelopes} B; {redundant} envelopes received again from "
    "concurrent sessions; with Bloom filters instead of cells and ids: {bloom})": (
        "{share} ({control} o / {envelopes} o ; {redundant} enveloppes reçues une deuxième fois "
        "par des sessions simultanées ; avec des filtres de Bloom au lieu de cellules et "
        "d'identifiants : {bloom})"
    ),
    "floor: d × 32 B for d differences (Negentropy 1.36× to ≈ 30× of it; ours 0.87–1.06×, "
    "SPEC 10.5)": (
        "plancher : d × 32 o pour d différences (Negentropy de 1,36× à ≈ 30× ce plancher ; le "
        "nôtre 0,87–1,06×, SPEC 10.5)"
    ),
    "churn: {away} of {nodes} households leave 30–120 s while {alerts} alerts flow ({loss} "
    "loss); catch-up after return": (
        "départs et retours : {away} des {nodes} foyers partent 30 à 120 s pendant que "
        "{alerts} alertes circulent ({loss} de perte) ; rattrapage après le retour"
    ),
    "median {median}, worst {worst} after return ({missed} alerts missed while away); "
    "delivery {delivered}": (
        "médiane {median}, pire {worst} après le retour ({missed} alertes manquées pendant "
        "l'absence) ; distribution {delivered}"
    ),
    "gossip alone replays only its last ~3 s to a peer that returns": (
        "la diffusion seule ne rejoue que ses ~3 dernières secondes à un pair qui revient"
    ),
    "LoRa, {name}: channel utilisation at the busiest of {nodes} nodes ({preset}, {hours} h; "
    "{checkins} check-in per household per hour, {alerts} alerts per hour)": (
        "LoRa, {name} : occupation du canal au plus chargé des {nodes} nœuds ({preset}, "
        "{hours} h ; {checkins} nouvelle(s) par foyer et par heure, {alerts} alertes par heure)"
    ),
    "{busiest} (median {median}, worst minute {minute}); {tx} frames an hour, {relayed} "
    "relayed; airtime an hour: {airtime}": (
        "{busiest} (médiane {median}, pire minute {minute}) ; {tx} trames par heure, "
        "{relayed} relayées ; temps d'antenne par heure : {airtime}"
    ),
    "a 150-node Meshtastic LongFast mesh: 65 % (unreliable)": (
        "un réseau Meshtastic LongFast de 150 nœuds : 65 % (peu fiable)"
    ),
    "LoRa, {name}: messages delivered to every node": (
        "LoRa, {name} : messages distribués à chaque nœud"
    ),
    "{soon} within 5 min, {after} after {drain} min of catch-up (90 % of receptions within "
    "{p90})": (
        "{soon} en 5 min, {after} après {drain} min de rattrapage (90 % des réceptions en "
        "{p90})"
    ),
    "each broadcast taking 4 transmissions: ≈ 214 an hour at 25 % of LongFast": (
        "si chaque diffusion coûte 4 émissions : ≈ 214 par heure à 25 % de LongFast"
    ),
    "node/lora.py today": "node/lora.py aujourd'hui",
    "before: summaries every 10 min to the whole mesh": (
        "avant : résumés toutes les 10 min à tout le maillage"
    ),
    "node/lora.py today, a fifth of the radios relaying (the others CLIENT_MUTE)": (
        "node/lora.py aujourd'hui, un cinquième des radios qui relaient (les autres en "
        "CLIENT_MUTE)"
    ),
    # --- end of entraide simulate ---
    # --- storage quotas (protocol/quota.py) ---
    "{kind} from {author}…: its author already has {count} live messages ({size} bytes) "
    "here; its class keeps at most {max_count} ({max_size} bytes)": (
        "{kind} de {author}… : son auteur a déjà {count} messages en cours ({size} octets) "
        "ici ; sa catégorie en garde au plus {max_count} ({max_size} octets)"
    ),
    "{kind} from {author}…: its author already has {count} live alerts, retractions and "
    "revocations ({size} bytes) here; its class keeps at most {max_count} ({max_size} bytes)": (
        "{kind} de {author}… : son auteur a déjà {count} alertes, retraits et révocations en "
        "cours ({size} octets) ici ; sa catégorie en garde au plus {max_count} "
        "({max_size} octets)"
    ),
}

#: Msgids used without a literal ``tr("...")`` call (kept by the staleness check).
EXTRA_MSGIDS: Final[tuple[str, ...]] = (
    # node/sim/lora.py: the names of the LoRa setups the simulator compares
    "node/lora.py today",
    "before: summaries every 10 min to the whole mesh",
    "node/lora.py today, a fifth of the radios relaying (the others CLIENT_MUTE)",
)
