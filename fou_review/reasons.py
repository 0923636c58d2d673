"""The words of every decision: a reason code and its text in Swedish and English."""

from __future__ import annotations

from collections.abc import Mapping

from .money import format_kr

DECISION_WORDS = {  # decision -> (sv, en)
    "granted": ("beviljas", "granted"),
    "partly": ("beviljas delvis", "partly granted"),
    "rejected": ("avslås", "rejected"),
}

TEXTS: dict[str, tuple[str, str]] = {
    "granted": ("Beviljas: rangordnad {rank} av {ranked} i {fund} och ryms i budgeten.",
                "Granted: ranked {rank} of {ranked} in {fund} and fits the budget."),
    "granted_reduced": ("Beviljas med högsta beloppet {max_kr}: sökt belopp {requested_kr} är över taket.",
                        "Granted at the maximum {max_kr}: the request of {requested_kr} is over the cap."),
    "granted_partial": ("Beviljas delvis: rangordnad {rank} av {ranked}; återstående budget {remaining_kr} "
                        "räckte inte till hela beloppet.",
                        "Partly granted: ranked {rank} of {ranked}; the remaining budget of {remaining_kr} did "
                        "not cover the whole request."),
    "override": ("Nämndens beslut, avviker från beräkningen: {override_reason}",
                 "The committee's decision, departing from the computation: {override_reason}"),
    "rejected_cap": ("Avslås: {partner} har redan beviljats {cap} ansökningar i {fund} (högst {cap} per "
                     "förvaltning{joint_sv}).",
                     "Rejected: {partner} already has {cap} granted applications in {fund} (at most {cap} per "
                     "administration{joint_en})."),
    "rejected_budget": ("Avslås: rangordnad {rank} av {ranked}; återstående budget {remaining_kr} räcker inte "
                        "till sökt belopp {requested_kr}.",
                        "Rejected: ranked {rank} of {ranked}; the remaining budget of {remaining_kr} does not "
                        "cover the request of {requested_kr}."),
    "not_scored": ("Avslås: ansökan saknar bedömning i minst ett kriterium och kan inte rangordnas.",
                   "Rejected: the application lacks scores for at least one criterion and cannot be ranked."),
}

INELIGIBLE: dict[str, tuple[str, str]] = {
    "unknown_applicant": ("sökande förvaltning finns inte bland årets förvaltningar",
                          "the applicant is not an administration of this year"),
    "no_approved_report": ("godkänd återrapport för förra årets medel saknas",
                           "no approved report on last year's grant"),
    "outside_window": ("ansökan kom in utanför ansökningsperioden {opens}–{closes}",
                       "received outside the application window {opens} to {closes}"),
    "excluded_purpose": ("{fund} beviljas inte för ändamålet {purpose!r}",
                         "{fund} is not granted for the purpose {purpose!r}"),
    "over_maximum": ("sökt belopp {requested_kr} är över högsta beloppet {max_kr}",
                     "the request of {requested_kr} is over the maximum of {max_kr}"),
    "project_too_long": ("projektet är längre än {max_years} år",
                         "the project is longer than {max_years} years"),
}


def explain(code: str, facts: Mapping[str, object], lang: str = "sv") -> str:
    """The reason text for a decision code (or an `ineligible:<rule>,<rule>` code)."""
    i = 0 if lang == "sv" else 1
    values = {k: format_kr(v) if k.endswith("_kr") and isinstance(v, int) else v for k, v in facts.items()}
    if code.startswith("ineligible:"):
        parts = [INELIGIBLE[rule][i].format(**values) for rule in code.split(":", 1)[1].split(",")]
        head = "Avslås, ej behörig: " if lang == "sv" else "Rejected, not eligible: "
        text = "; ".join(parts)
        return head + text + "."
    return TEXTS[code][i].format(**values)
