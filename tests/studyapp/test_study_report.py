"""The report of a study's answers through Django: `manage.py study_report` and the admin page, both
computed by `evaluation` from the same rows as `export_results`."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from studyapp import services
from tests.studyapp.answers import answer_all

pytestmark = pytest.mark.django_db


def test_study_report_command_and_admin_page(make_study, tmp_path, admin_client) -> None:
    study = make_study()
    with pytest.raises(CommandError, match="no answers yet"):
        call_command("study_report", study.slug, "--out", str(tmp_path / "empty"))
    for _ in range(6):
        participant = services.participant_register(study=study)
        answer_all(participant)
        services.participant_finish(participant=participant)
    simulated = services.participant_register(study=study, simulated=True)
    answer_all(simulated)
    services.participant_finish(participant=simulated)
    excluded = study.participants.first()
    services.participant_set_exclusion(participant=excluded, excluded=True, reason="used loudspeakers")

    call_command("study_report", study.slug, "--out", str(tmp_path / "report"))
    page = (tmp_path / "report" / "index.html").read_text()
    for title in (
        "Turing test, two alternatives",
        "single stimulus",
        "Synchronisation",
        "Fidelity",
        "Ranking",
    ):
        assert title in page
    assert "SIMULATED DATA" in page
    methods = (tmp_path / "report" / "methods.txt").read_text()
    assert "7 participants took part; 6 were analysed" in methods
    assert "1 excluded by the researcher (used loudspeakers)" in methods
    assert (tmp_path / "report" / "tables" / "turing_2afc-fool_rate_by_system.csv").is_file()

    admin_page = admin_client.get(f"/admin/studyapp/study/{study.pk}/report/")
    assert admin_page.status_code == 200
    assert b"data:image/png;base64," in admin_page.content and b"Fidelity ratings" in admin_page.content
    with pytest.raises(CommandError, match="no study 'nope'"):
        call_command("study_report", "nope")


def test_within_participant_tests_use_every_analysed_participant(make_study) -> None:
    """Every participant judges every system of a task, so Friedman's test and the pairwise tests have
    a complete block per analysed participant (not n = 0, as when each saw 2 of 5 systems)."""
    from studyapp.reports import study_analysis
    from studyapp.services.simulation import RaterModel, study_simulate

    study = make_study()
    raters = RaterModel(quality={"sys-noise": 0.5, "sys-delay": 0.9}, careless=0.0, screening_failure=0.0)
    study_simulate(study, n=12, model=raters, progress=False)
    analysis = study_analysis(study)
    analysed = analysis.exclusions.participants_analysed
    assert analysed >= 6  # an attentive rater may still miss a catch trial now and then
    by_type = {section.task_type: section.tables for section in analysis.sections}
    for task_type in ("sync_rating", "fidelity_rating"):
        assert by_type[task_type]["friedman"]["n"].tolist() == [analysed], task_type
        assert set(by_type[task_type]["pairwise"]["n"]) == {analysed}, task_type
    assert set(by_type["turing_2afc"]["pairwise"]["n"]) == {analysed}
    # Ranking: each participant ranks 2 videos; the blocks are participants (their mean ranks).
    assert by_type["ranking"]["friedman"]["n"].tolist() == [analysed]
    from evaluation.report import methods

    text = methods(analysis)
    assert f"Friedman's test on per-participant mean ranks (n = {analysed} participants)" in text
    assert "Not run for" not in text
