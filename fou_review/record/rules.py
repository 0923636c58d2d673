"""The record's rules and criteria as applied that year, and the ranking with its scores."""

from __future__ import annotations

import pandas as pd

from fou_review.core.params import Criterion, Fund, Params, TieBreakKey
from fou_review.core.pipeline import Review
from fou_review.record.markup import Col, badge, decimal, esc, kr, long_date, paragraph, section, table, tr


def criterion_label(params: Params, code: str) -> str:
    """K1, K2, ...: the short name the tables use for a criterion."""
    return f"K{params.criterion_codes().index(code) + 1}"


def _number(value: float, lang: str) -> str:
    return str(int(value)) if float(value).is_integer() else decimal(value, lang)


def _condition(c: Criterion, params: Params, lang: str) -> str:
    if not c.requires_any:
        return tr(lang, "räknas alltid", "always counts")
    parts = [tr(lang, f"minst {_number(t, lang)} i {criterion_label(params, o)}",
                f"at least {_number(t, lang)} in {criterion_label(params, o)}") for o, t in c.requires_any]
    return tr(lang, "räknas bara om medelbetyget är ", "counts only if the mean score is ") + tr(
        lang, " eller ", " or ").join(parts)


def _fund_rules(fund: Fund, lang: str) -> list[str]:
    budget = kr(fund.budget_kr)
    if fund.budget_source == "illustrative":
        budget += " " + badge(tr(lang, "illustrativ", "illustrative"))
    over = tr(lang, "större ansökningar avslås", "larger requests are rejected") if fund.over_max == "reject" \
        else tr(lang, "större ansökningar sänks till högsta beloppet", "larger requests are reduced to the maximum")
    joint = tr(lang, "en gemensam ansökan räknas för varje part", "a joint application counts for each partner") \
        if fund.joint_counts_for == "each_partner" else tr(lang, "en gemensam ansökan räknas för den första sökande",
                                                           "a joint application counts for the first applicant")
    excluded = ", ".join(fund.excluded_purposes) or tr(lang, "inga", "none")
    years = tr(lang, f"{fund.max_project_years} år; ansökan görs varje år",
               f"{fund.max_project_years} years; apply every year") if fund.max_project_years else tr(
        lang, "ingen gräns", "no limit")
    if fund.remainder.partial:
        rest = esc(tr(lang, "ansökan får det som återstår, om det är minst ",
                      "the application gets what is left, if it is at least ")) + kr(fund.remainder.minimum_kr)
    else:
        rest = esc(tr(lang, "ansökan avslås och nästa i rangordningen prövas",
                      "the application is rejected and the next in rank is tried"))
    window = f"{fund.window.opens.isoformat()} – {fund.window.closes.isoformat()}"
    return [budget, f"{kr(fund.max_amount_kr)}; {esc(over)}",
            esc(tr(lang, f"högst {fund.max_granted_per_applicant}; {joint}",
                   f"at most {fund.max_granted_per_applicant}; {joint}")),
            esc(window), esc(excluded), esc(years), rest]


def _tie_break_words(key: TieBreakKey, params: Params, lang: str) -> str:
    if key.key.startswith("criterion:"):
        label = criterion_label(params, key.key.split(":", 1)[1])
        return tr(lang, f"medelbetyg i {label}, ", f"mean score in {label}, ") + (
            tr(lang, "högst först", "highest first") if key.descending else tr(lang, "lägst först", "lowest first"))
    words = {
        "total_score": (("totalpoäng, högst först", "total score, highest first"),
                        ("totalpoäng, lägst först", "total score, lowest first")),
        "received": (("inkomstdatum, senast först", "date received, latest first"),
                     ("inkomstdatum, tidigast först", "date received, earliest first")),
        "requested_kr": (("sökt belopp, högst först", "amount requested, highest first"),
                         ("sökt belopp, lägst först", "amount requested, lowest first")),
        "id": (("ansökans id i fallande ordning", "application id, descending"),
               ("ansökans id i stigande ordning", "application id, ascending")),
    }[key.key]
    sv, en = words[0] if key.descending else words[1]
    return tr(lang, sv, en)


def render_rules(review: Review, lang: str) -> str:
    """Budgets, caps, windows and criteria of the year, all from the parameters."""
    params = review.inputs.params
    d = params.decision
    body = [paragraph(esc(tr(lang, f"Reglerna nedan gällde för utlysningen {params.year} och är de som fördelningen "
                                   f"har tillämpat. De kommer ur årets parametrar (params/{params.year}.yaml).",
                             f"The rules below applied to the {params.year} call and are the ones the allocation "
                             f"applied. They come from the year's parameters (params/{params.year}.yaml).")))]
    labels = [tr(lang, "Budget", "Budget"), tr(lang, "Högsta belopp per ansökan", "Maximum per application"),
              tr(lang, "Beviljade ansökningar per förvaltning", "Granted applications per administration"),
              tr(lang, "Ansökningsperiod", "Application window"),
              tr(lang, "Ändamål som inte beviljas", "Purposes not granted"),
              tr(lang, "Längsta projekttid", "Longest project"),
              tr(lang, "När återstående budget inte räcker", "When the remaining budget does not suffice")]
    per_fund = [_fund_rules(f, lang) for f in params.funds.values()]
    cols = [Col(tr(lang, "Regel", "Rule"))] + [Col(code) for code in params.funds]
    rows = [[esc(label)] + [cells[i] for cells in per_fund] for i, label in enumerate(labels)]
    body.append(table(tr(lang, f"Regler per fond {params.year}", f"Rules per fund {params.year}"), cols, rows,
                      css="rules"))
    body.append(paragraph(esc(tr(
        lang, "En ansökan prövas bara om den är behörig: den sökande förvaltningen finns bland årets förvaltningar, "
              "förra årets medel har en godkänd återrapport (eller ansökan avser inga tidigare medel), den kom in "
              "under ansökningsperioden, ändamålet är inte undantaget, beloppet är inte över det högsta (när fonden "
              "avslår större ansökningar) och projektet är inte längre än tillåtet.",
        "An application is considered only if it is eligible: the applicant is an administration of the year, "
        "last year's grant has an approved report (or there was none), it was received within the window, its "
        "purpose is not excluded, the amount is not over the maximum (when the fund rejects larger requests), "
        "and the project is not longer than allowed."))))
    body.append(paragraph(tr(
        lang, "Beviljade medel som inte kan användas ska återbetalas till socialförvaltningen. Senast den "
              f"{esc(long_date(d.repayment_deadline, lang))} ska berörd förvaltning meddela om återbetalning "
              f"kommer att ske. Meddelandet skickas till funktionsbrevlådan {esc(d.repayment_address)}.",
        "Granted funds that cannot be used are repaid to the social services administration. By "
        f"{esc(long_date(d.repayment_deadline, lang))} the administration concerned says whether it will repay, "
        f"to the functional mailbox {esc(d.repayment_address)}.")))
    scale = params.scale
    body.append(f"<h3>{esc(tr(lang, 'Bedömning', 'Assessment'))}</h3>")
    body.append(paragraph(esc(tr(
        lang, f"Varje ansökan bedöms av FoU-rådets {len(params.reviewers)} ledamöter, var för sig, med ett betyg "
              f"{scale.minimum}–{scale.maximum} per kriterium. En ledamot med jäv i en ansökan bedömer den inte. "
              "Totalpoängen är summan av vikt × medelbetyg över de kriterier som räknas.",
        f"Each application is scored by the {len(params.reviewers)} members of the FoU council, each on their "
        f"own, with a grade {scale.minimum}–{scale.maximum} per criterion. A member with a conflict of interest "
        "in an application does not score it. The total score is the sum of weight × mean score over the "
        "criteria that count."))))
    descriptors = scale.descriptors_sv if lang == "sv" else scale.descriptors_en
    body.append(table(tr(lang, "Betygsskala", "Scale"), [Col(tr(lang, "Betyg", "Grade")),
                                                          Col(tr(lang, "Beskrivning", "Descriptor"))],
                      [[str(g), esc(descriptors[g])] for g in sorted(descriptors)], css="scale"))
    crit_rows = [[criterion_label(params, c.code), esc(tr(lang, c.name_sv, c.name_en)), str(c.weight),
                  esc(_condition(c, params, lang))] for c in params.criteria]
    body.append(table(tr(lang, f"Kriterier och vikter {params.year}", f"Criteria and weights {params.year}"),
                      [Col(tr(lang, "Nr", "No.")), Col(tr(lang, "Kriterium", "Criterion")),
                       Col(tr(lang, "Vikt", "Weight"), True), Col(tr(lang, "Villkor", "Condition"))],
                      crit_rows, css="criteria"))
    steps = "\n".join(f"<li>{esc(_tie_break_words(k, params, lang))}</li>" for k in params.tie_break)
    body.append(paragraph(esc(tr(lang, "Ansökningarna rangordnas per fond efter, i tur och ordning:",
                                 "Applications are ranked per fund by, in turn:"))))
    body.append(f"<ol>\n{steps}\n</ol>")
    body.append(paragraph(esc(tr(
        lang, "I rangordning prövas varje ansökan: den avslås om en sökande förvaltning redan har fondens tak av "
              "beviljade ansökningar, beviljas om den ryms i återstående budget, och annars gäller regeln för "
              "återstående budget ovan.",
        "In rank order each application is tried: it is rejected if an applicant already has the fund's cap of "
        "granted applications, granted if it fits the remaining budget, and otherwise the rule for the "
        "remaining budget above applies."))))
    return section("regler", tr(lang, f"Regler och kriterier {params.year}", f"Rules and criteria {params.year}"),
                   body)


def _score_cell(row: pd.Series, code: str, lang: str) -> str:
    cell = f"{decimal(row[f'{code}_mean'], lang)} ({int(row[f'{code}_spread'])})"
    if not bool(row[f"{code}_counts"]):
        cell += " " + badge(tr(lang, "räknas ej", "does not count"))
    return cell


def render_ranking(review: Review, lang: str) -> str:
    """Per fund: the ranked applications with mean score per criterion, spread, total and decision."""
    params, decisions = review.inputs.params, review.decisions
    ranked = review.allocation.ranked
    by_id = decisions.set_index("id")
    codes = params.criterion_codes()
    body = [paragraph(esc(tr(
        lang, "Tabellerna visar medelbetyget per kriterium och, inom parentes, spridningen mellan ledamöterna "
              "(högsta minus lägsta betyg). Ett kriterium som inte uppfyller sitt villkor är märkt ”räknas ej” och "
              "ingår inte i totalpoängen. Kolumnen Kvar före visar fondens återstående budget när ansökan prövades.",
        "The tables show the mean score per criterion and, in brackets, the spread between the members (highest "
        "minus lowest grade). A criterion whose condition is not met is marked “does not count” and is left out "
        "of the total. The column Left before shows the fund's remaining budget when the application was "
        "tried.")))]
    for fund_code in params.funds:
        rows_frame = ranked[ranked["fund"] == fund_code] if len(ranked) else ranked
        cols = [Col(tr(lang, "Rang", "Rank"), True), Col("Id", css="nowrap"),
                Col(tr(lang, "Förvaltning", "Administration"))]
        cols += [Col(f"{criterion_label(params, c.code)} ({tr(lang, 'vikt', 'weight')} {c.weight})", True)
                 for c in params.criteria]
        cols += [Col(tr(lang, "Totalpoäng", "Total score"), True), Col(tr(lang, "Granskare", "Reviewers"), True),
                 Col(tr(lang, "Kvar före", "Left before"), True), Col(tr(lang, "Beslut", "Decision"))]
        rows = []
        not_counted = []
        for _, row in rows_frame.iterrows():
            d = by_id.loc[row["id"]]
            n = min(int(row[f"{c}_n"]) for c in codes)
            reviewers = str(n) + (tr(lang, f" ({int(row['conflicted_reviewers'])} jäv)",
                                     f" ({int(row['conflicted_reviewers'])} conflicted)")
                                  if int(row["conflicted_reviewers"]) else "")
            before = d["budget_before_kr"]
            rows.append([str(int(row["rank"])), esc(row["id"]), esc(d["applicants"])]
                        + [_score_cell(row, c, lang) for c in codes]
                        + [decimal(row["total_score"], lang), esc(reviewers),
                           kr(int(before)) if not pd.isna(before) else "–",
                           esc(d["decision"] if lang == "sv" else d["decision_en"])])
            not_counted += [f"{criterion_label(params, c)} {tr(lang, 'för', 'for')} {row['id']}"
                            for c in codes if not bool(row[f"{c}_counts"])]
        caption = tr(lang, f"Rangordning {fund_code} {params.year}", f"Ranking {fund_code} {params.year}")
        body.append('<div class="scroll">' + table(caption, cols, rows, css="ranking",
                                                     empty=tr(lang, "Ingen ansökan rangordnas.",
                                                              "No application is ranked.")) + "</div>")
        if not_counted:
            body.append(paragraph(esc(tr(lang, "Kriterier som inte räknades: ", "Criteria that did not count: ")
                                      + ", ".join(not_counted) + ".")))
        else:
            body.append(paragraph(esc(tr(lang, "Alla kriterier räknades för alla rangordnade ansökningar.",
                                         "Every criterion counted for every ranked application."))))
        unranked = decisions[(decisions["fund"] == fund_code) & decisions["rank"].isna()]
        if len(unranked):
            items = "\n".join(f"<li>{esc(i)}: {esc(r if lang == 'sv' else r_en)}</li>" for i, r, r_en in
                              zip(unranked["id"], unranked["reason"], unranked["reason_en"], strict=True))
            body.append(paragraph(esc(tr(lang, "Rangordnas inte:", "Not ranked:"))) + f"\n<ul>\n{items}\n</ul>")
    return section("rangordning", tr(lang, "Rangordning och bedömningar", "Ranking and scores"), body)
