"""A study's report: an HTML page with figures, the CSV tables behind it, and a methods paragraph.
Written to a folder by `python -m evaluation report` and `manage.py study_report`; rendered in
memory (figures inline) for the admin."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers
import matplotlib.pyplot as plt
import pandas as pd

from evaluation.analysis import Analysis

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
body{line-height:1.5}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.simulated{background:#fde8e8;border:2px solid #b00020;padding:.75rem;font-weight:700}
figure{margin:1rem 0} img{max-width:100%}
"""


def _errorbar_figure(table: pd.DataFrame, value: str, ylabel: str, chance: float | None = None) -> bytes:
    systems = list(dict.fromkeys(table["system"]))
    categories = list(dict.fromkeys(table["category"]))
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(systems) * max(1, len(categories)) / 2), 3.2))
    width = 0.8 / max(1, len(categories))
    for j, category in enumerate(categories):
        rows = table[table["category"] == category].set_index("system").reindex(systems)
        x = [i + (j - (len(categories) - 1) / 2) * width for i in range(len(systems))]
        low = (rows[value] - rows["ci_low"]).clip(lower=0)
        high = (rows["ci_high"] - rows[value]).clip(lower=0)
        ax.errorbar(x, rows[value], yerr=[low, high], fmt="o", capsize=3, label=category)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(systems)), systems, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(title="category", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _distribution_figure(table: pd.DataFrame, title: str) -> bytes:
    counts = table.set_index("system")[[1, 2, 3, 4, 5]]
    shares = counts.div(counts.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(shares)))
    left = pd.Series(0.0, index=shares.index)
    colours = plt.get_cmap("RdYlGn")([0.05, 0.3, 0.5, 0.7, 0.95])
    for rating, colour in zip([1, 2, 3, 4, 5], colours, strict=True):
        ax.barh(shares.index, shares[rating], left=left, color=colour, label=str(rating))
        left += shares[rating]
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of ratings")
    ax.set_title(title, fontsize=9)
    ax.legend(ncol=5, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.05), title=None, frameon=False)
    fig.tight_layout()
    return _png(fig)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return buffer.getvalue()


def figures(analysis: Analysis) -> dict[str, bytes]:
    out = {}
    for section in analysis.sections:
        t = section.tables
        if "fool_rate_by_system_category" in t:
            out[f"{section.task_type}-fool-rate"] = _errorbar_figure(
                t["fool_rate_by_system_category"],
                "fool_rate",
                "fool rate (95 % CI, clustered by participant)",
                chance=0.5,
            )
        if "mos_by_system_category" in t:
            out[f"{section.task_type}-mos"] = _errorbar_figure(
                t["mos_by_system_category"], "mos", "MOS (95 % CI)"
            )
            out[f"{section.task_type}-distribution"] = _distribution_figure(t["distribution"], section.title)
        if "judged_real_by_system" in t:
            rows = t["judged_real_by_system"].assign(category="all")
            out[f"{section.task_type}-judged-real"] = _errorbar_figure(
                rows, "rate", "judged real (95 % CI, clustered)", 0.5
            )
    return out


def methods(analysis: Analysis) -> str:
    """The methods paragraph: who was analysed, then per task type the analyses that ran (with the
    engine that fitted each model) and those that could not, with why."""
    e = analysis.exclusions
    excluded = "; ".join(e.lines()) or "none"
    parts = [
        f"{e.participants_total} participants took part; {e.participants_analysed} were analysed "
        f"({analysis.responses} test answers; practice and catch trials are not analysed). "
        f"Exclusions: {excluded}."
    ]
    for section in analysis.sections:
        if section.methods:
            parts.append(f"{section.title}: {'; '.join(section.methods)}.")
        if section.not_run:
            parts.append(f"Not run for {section.title.lower()}: {'; '.join(section.not_run)}.")
    return " ".join(parts)


def _table_html(table: pd.DataFrame) -> str:
    return table.to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0, na_rep="–")


def render_html(
    analysis: Analysis,
    *,
    title: str,
    metrics: pd.DataFrame | None = None,
    figure_files: dict[str, str] | None = None,
) -> str:
    """The report page; figures inline (data: URLs) unless `figure_files` maps names to relative paths."""
    pictures = figures(analysis)
    body = [f"<h1>{html.escape(title)}</h1>"]
    if analysis.exclusions.simulated:
        body.append(
            '<p class="simulated">SIMULATED DATA: some or all participants were simulated by '
            "simulate_participants. These are not human judgements.</p>"
        )
    body.append(f"<h2>Methods</h2><p>{html.escape(methods(analysis))}</p>")
    for section in analysis.sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        for note in section.notes:
            body.append(f"<p>{html.escape(note)}</p>")
        for name, png in pictures.items():
            if name.startswith(section.task_type + "-"):
                src = (figure_files or {}).get(name) or "data:image/png;base64," + base64.b64encode(
                    png
                ).decode()
                body.append(f'<figure><img src="{html.escape(src)}" alt="{html.escape(name)}"></figure>')
        for name, table in section.tables.items():
            body.append(f"<h3>{html.escape(name.replace('_', ' '))}</h3>{_table_html(table)}")
    if metrics is not None and len(metrics):
        body.append("<h2>Objective metrics</h2>")
        body.append(
            "<p>Computed by <code>python -m evaluation metrics</code> beside the human judgements.</p>"
        )
        body.append(_table_html(metrics))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def write_report(
    analysis: Analysis, out: str | Path, *, title: str, metrics: pd.DataFrame | None = None
) -> Path:
    """index.html, figures/*.png, tables/<task>-<table>.csv, methods.txt; returns index.html's path."""
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    names = {}
    for name, png in figures(analysis).items():
        (out / "figures" / f"{name}.png").write_bytes(png)
        names[name] = f"figures/{name}.png"
    for section in analysis.sections:
        for name, table in section.tables.items():
            table.to_csv(out / "tables" / f"{section.task_type}-{name}.csv", index=False)
    if metrics is not None:
        metrics.to_csv(out / "tables" / "objective-metrics.csv", index=False)
    exclusions = pd.DataFrame(
        [{"reason": r, "participants": n} for r, n in analysis.exclusions.reasons.items()],
        columns=["reason", "participants"],
    )
    exclusions.to_csv(out / "tables" / "exclusions.csv", index=False)
    (out / "methods.txt").write_text(methods(analysis) + "\n")
    index = out / "index.html"
    index.write_text(render_html(analysis, title=title, metrics=metrics, figure_files=names))
    return index
