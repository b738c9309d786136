"""An issued invoice or credit note is final, and the database says so.

Once a document is issued, its number, date, parties, totals and lines can no longer change and
it cannot be deleted: only its state, what is paid or credited, the reminders sent and the
rendered files move. Corrections are credit notes.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION invoicing_invoice_final() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state <> 'draft' THEN
            RAISE EXCEPTION 'issued document % cannot be deleted: credit it', OLD.number
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.state <> 'draft' AND (
        NEW.number IS DISTINCT FROM OLD.number
        OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.issue_date IS DISTINCT FROM OLD.issue_date
        OR NEW.due_date IS DISTINCT FROM OLD.due_date
        OR NEW.currency IS DISTINCT FROM OLD.currency
        OR NEW.seller::text IS DISTINCT FROM OLD.seller::text
        OR NEW.buyer::text IS DISTINCT FROM OLD.buyer::text
        OR NEW.performer IS DISTINCT FROM OLD.performer
        OR NEW.payment_reference IS DISTINCT FROM OLD.payment_reference
        OR NEW.net_total IS DISTINCT FROM OLD.net_total
        OR NEW.vat_total IS DISTINCT FROM OLD.vat_total
        OR NEW.gross_total IS DISTINCT FROM OLD.gross_total
        OR NEW.client_id IS DISTINCT FROM OLD.client_id
        OR NEW.member_id IS DISTINCT FROM OLD.member_id
        OR NEW.credited_invoice_id IS DISTINCT FROM OLD.credited_invoice_id
        OR NEW.state = 'draft'
    ) THEN
        RAISE EXCEPTION 'issued document % cannot be edited: credit it', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_invoice_final
    BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_final();

CREATE OR REPLACE FUNCTION invoicing_part_final() RETURNS trigger AS $$
DECLARE
    parent_state text;
BEGIN
    EXECUTE format('SELECT state FROM %I.invoicing_invoice WHERE id = $1', TG_TABLE_SCHEMA)
        INTO parent_state USING OLD.invoice_id;
    IF parent_state IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION 'the lines of an issued document cannot change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoicing_line_final
    BEFORE UPDATE OR DELETE ON invoicing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoicing_part_final();

CREATE TRIGGER invoicing_tax_final
    BEFORE UPDATE OR DELETE ON invoicing_invoicetax
    FOR EACH ROW EXECUTE FUNCTION invoicing_part_final();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS invoicing_tax_final ON invoicing_invoicetax;
DROP TRIGGER IF EXISTS invoicing_line_final ON invoicing_invoiceline;
DROP FUNCTION IF EXISTS invoicing_part_final();
DROP TRIGGER IF EXISTS invoicing_invoice_final ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoicing_invoice_final();
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
