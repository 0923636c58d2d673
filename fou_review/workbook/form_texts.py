"""What the scoring form says, in Swedish (the default) and English."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "heading": ("Bedömning av ansökningar {year}", "Scoring the applications {year}"),
    "who": ("Jag är", "I am"),
    "pick": ("— välj granskare —", "— pick a reviewer —"),
    "pick_first": ("Välj vem du är för att börja bedöma.", "Pick who you are to start scoring."),
    "position": ("Ansökan {i} av {n}", "Application {i} of {n}"),
    "progress": ("{done} av {total} bedömda", "{done} of {total} scored"),
    "progress_conflicts": (" ({n} med jäv räknas inte)", " ({n} with a conflict not counted)"),
    "previous": ("◀ Föregående", "◀ Previous"),
    "next": ("Nästa ▶", "Next ▶"),
    "next_open": ("Nästa ej bedömda ▶▶", "Next unscored ▶▶"),
    "applicants": ("Sökande", "Applicants"),
    "fund": ("Fond", "Fund"),
    "amount": ("Sökt belopp", "Requested"),
    "eligible": ("Behörig: uppfyller alla formella krav.", "Eligible: meets every formal requirement."),
    "ineligible": ("Ej behörig:", "Not eligible:"),
    "comment": ("Kommentar (sparas när du lämnar fältet)", "Comment (saved when you leave the field)"),
    "not_scored": ("ej bedömd", "not scored"),
    "not_scored_button": ("–", "–"),
    "conflict": ("Du har anmält jäv för denna ansökan och kan inte bedöma den. Skäl: {reason}",
                 "You declared a conflict of interest in this application and cannot score it. Reason: {reason}"),
    "conflict_no_reason": ("(inget skäl angivet)", "(no reason given)"),
    "saved": ("Sparat {time}: {what}", "Saved {time}: {what}"),
    "unchanged": ("Oförändrat (redan sparat).", "Unchanged (already saved)."),
    "save_failed": (("EJ SPARAT: {error}. Formuläret visar det som finns sparat på disk; "
                    "försök igen eller kontakta den som förvaltar filerna."),
                    ("NOT SAVED: {error}. The form shows what is saved on disk; try again or contact the person "
                    "who looks after the files.")),
    "read_failed": ("Kunde inte läsa dina sparade betyg: {error}", "Could not read your saved scores: {error}"),
    "others_hidden": ("Andra granskares betyg visas när du har bedömt alla ansökningar ({done} av {total} klara).",
                      ("Other reviewers' scores are shown when you have scored every application "
                      "({done} of {total} done).")),
    "others_title": ("Andra granskares betyg (medel, lägst–högst, antal)",
                     "Other reviewers' scores (mean, lowest–highest, count)"),
    "others_none": ("inga", "none"),
    "score_what": ("{app} / {criterion}: {old} → {new}", "{app} / {criterion}: {old} → {new}"),
    "comment_what": ("{app} / kommentar", "{app} / comment"),
}


def text(key: str, lang: str, **values: object) -> str:
    words = TEXTS[key][0 if lang == "sv" else 1]
    return words.format(**values) if values else words
