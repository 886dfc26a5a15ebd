"""A researcher signs in to the admin in a real browser (Debian's chromium, headless)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_sign_in(browser, live_server, django_user_model) -> None:
    django_user_model.objects.create_superuser("researcher", "r@example.org", "a-long-test-password")
    page = browser.new_page()
    try:
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", "researcher")
        page.fill("#id_password", "a-long-test-password")
        page.click("input[type=submit]")
        page.wait_for_selector("text=Site administration")
        assert "vis2sound" in page.title()
    finally:
        page.close()
