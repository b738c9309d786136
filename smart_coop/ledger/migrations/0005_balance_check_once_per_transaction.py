"""The balance check runs once per ledger transaction at commit, not once per entry.

The deferred constraint trigger fires for every entry; each firing summed all the entries of
its transaction, so a salary run booking 20,000 member budgets summed 20,000 x 20,000 rows at
commit. Now the first firing of a transaction checks all its entries and records, for the rest
of the database transaction, up to which entry id that transaction is known to balance; later
firings for entries up to that id return at once. An entry added after the check (a higher id)
checks again. The mark is local to the database transaction and names the schema, so that two
entities' transactions with the same id are each checked.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    checked text[] := string_to_array(current_setting('ledger.balanced_through', true), ':');
    found record;
BEGIN
    IF checked[1] = TG_TABLE_SCHEMA AND checked[2] = NEW.transaction_id::text
        AND NEW.id <= checked[3]::bigint THEN
        RETURN NULL;
    END IF;
    -- The table of the row's own schema, whatever the search_path is at commit time.
    EXECUTE format(
        'SELECT max(id) AS last_id, '
        '(array_agg(currency) FILTER (WHERE total <> 0))[1] AS currency, '
        '(array_agg(total) FILTER (WHERE total <> 0))[1] AS total '
        'FROM (SELECT currency, SUM(amount) AS total, max(id) AS id FROM %I.ledger_entry '
        'WHERE transaction_id = $1 GROUP BY currency) AS sums',
        TG_TABLE_SCHEMA
    ) INTO found USING NEW.transaction_id;
    IF found.currency IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in %: %',
            NEW.transaction_id, found.currency, found.total
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM set_config(
        'ledger.balanced_through',
        TG_TABLE_SCHEMA || ':' || NEW.transaction_id || ':' || found.last_id,
        true
    );
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

# The check of migration 0002, one sum per entry.
BACKWARD = """
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    unbalanced record;
BEGIN
    EXECUTE format(
        'SELECT currency, SUM(amount) AS total FROM %I.ledger_entry '
        'WHERE transaction_id = $1 GROUP BY currency HAVING SUM(amount) <> 0 LIMIT 1',
        TG_TABLE_SCHEMA
    ) INTO unbalanced USING NEW.transaction_id;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in %: %',
            NEW.transaction_id, unbalanced.currency, unbalanced.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_entries_only_with_their_transaction")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
