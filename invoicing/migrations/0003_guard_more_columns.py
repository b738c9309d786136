"""Also final once issued: the fee, the VAT treatment and the contract of a document."""

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
        OR NEW.fee_total IS DISTINCT FROM OLD.fee_total
        OR NEW.vat_treatment IS DISTINCT FROM OLD.vat_treatment
        OR NEW.contract_id IS DISTINCT FROM OLD.contract_id
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
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0002_issued_documents_are_final")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
