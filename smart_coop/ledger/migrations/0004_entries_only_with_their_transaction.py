"""Entries are written with their transaction, never added to it later.

A transaction's ``created_at`` is the start of the database transaction that wrote it
(``now()``); an entry is accepted only while that is still the current transaction.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_entry_with_its_transaction() RETURNS trigger AS $$
DECLARE
    written timestamptz;
BEGIN
    EXECUTE format('SELECT created_at FROM %I.ledger_transaction WHERE id = $1', TG_TABLE_SCHEMA)
        INTO written USING NEW.transaction_id;
    IF written IS DISTINCT FROM transaction_timestamp() THEN
        RAISE EXCEPTION 'ledger transaction % is already written: correct it by a reversal',
            NEW.transaction_id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_entry_with_its_transaction
    BEFORE INSERT ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_with_its_transaction();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledger_entry_with_its_transaction ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_entry_with_its_transaction();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_alter_transaction_created_at")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
