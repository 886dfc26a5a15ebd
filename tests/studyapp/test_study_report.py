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
