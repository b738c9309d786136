"""Lines and VAT rows are written with their document, never added to an issued one later.

A document's ``issued_at`` is the start of the database transaction that issued it; a line is
accepted only while that is still the current transaction (or while the document is a draft).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION invoicing_part_at_issue() RETURNS trigger AS $$
DECLARE
    parent record;
BEGIN
    EXECUTE format('SELECT state, issued_at FROM %I.invoicing_invoice WHERE id = $1', TG_TABLE_SCHEMA)
        INTO parent USING NEW.invoice_id;
    IF parent.state <> 'draft' AND parent.issued_at IS DISTINCT FROM transaction_timestamp() THEN
        RAISE EXCEPTION 'the lines of an issued document cannot change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_line_at_issue
    BEFORE INSERT ON invoicing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoicing_part_at_issue();

CREATE TRIGGER invoicing_tax_at_issue
    BEFORE INSERT ON invoicing_invoicetax
    FOR EACH ROW EXECUTE FUNCTION invoicing_part_at_issue();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS invoicing_tax_at_issue ON invoicing_invoicetax;
DROP TRIGGER IF EXISTS invoicing_line_at_issue ON invoicing_invoiceline;
DROP FUNCTION IF EXISTS invoicing_part_at_issue();
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0004_alter_invoice_issued_at")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
