"""Entries are checked against their transaction once per statement, not once per row.

The rule of migration 0004 stands (an entry is accepted only in the database transaction that
wrote its ledger transaction); it is now checked by a statement-level trigger over the inserted
rows, so that the month-end bookings of thousands of entries pay one query per statement.
"""

from django.db import migrations

FORWARD = """
DROP TRIGGER IF EXISTS ledger_entry_with_its_transaction ON ledger_entry;

CREATE OR REPLACE FUNCTION ledger_entries_with_their_transaction() RETURNS trigger AS $$
DECLARE
    late bigint;
BEGIN
    EXECUTE format(
        'SELECT n.transaction_id FROM new_rows n JOIN %I.ledger_transaction t '
        'ON t.id = n.transaction_id '
        'WHERE t.created_at IS DISTINCT FROM transaction_timestamp() LIMIT 1',
        TG_TABLE_SCHEMA
    ) INTO late;
    IF late IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is already written: correct it by a reversal',
            late USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_entries_with_their_transaction
    AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_with_their_transaction();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledger_entries_with_their_transaction ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_entries_with_their_transaction();

CREATE TRIGGER ledger_entry_with_its_transaction
    BEFORE INSERT ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_with_its_transaction();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_balance_check_once_per_transaction")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
