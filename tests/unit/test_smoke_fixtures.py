from clientpay_tui.db import schema


def test_database_fixture_is_at_head(db):
    assert schema.current_revision(db) == schema.head_revision()
