"""The audit tests write and read their anchors in their own folder, never in instance/."""

import pytest


@pytest.fixture
def app_config(app_config, tmp_path):
    app_config["AUDIT_ANCHOR_PATH"] = str(tmp_path / "anchors" / "audit-anchors.log")
    return app_config
