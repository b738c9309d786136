"""Payslips, their lines and the invoices they take up are final at the database level.

A payslip is never edited or deleted (a correction is a new payslip in a later run), and rows
are added only to a run that is still open (draft or calculated): once approved, a run cannot
change. The insert checks are statement-level triggers over the inserted rows, so that the
month-end COPY of 100,000 payslips pays one check per statement, not one per row.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION payroll_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'payroll: % rows are final (% refused); correct by a new payslip',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION payroll_payslip_run_open() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n JOIN payroll_salaryrun r ON r.id = n.run_id
        WHERE r.state NOT IN ('draft', 'calculated')
    ) THEN
        RAISE EXCEPTION 'payroll: payslips are added only to a draft or calculated run'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION payroll_part_run_open() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
        JOIN payroll_payslip p ON p.id = n.payslip_id
        JOIN payroll_salaryrun r ON r.id = p.run_id
        WHERE r.state NOT IN ('draft', 'calculated')
    ) THEN
        RAISE EXCEPTION 'payroll: % rows are added only to a payslip of an open run',
            TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION payroll_salaryrun_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state <> 'draft' THEN
            RAISE EXCEPTION 'payroll: only a draft salary run can be deleted'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.period <> OLD.period THEN
        RAISE EXCEPTION 'payroll: the period of a salary run never changes'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.state IN ('approved', 'paid', 'exported')
        AND NEW.state IN ('draft', 'calculated') THEN
        RAISE EXCEPTION 'payroll: an approved salary run cannot be reopened'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payroll_payslip_final BEFORE UPDATE OR DELETE ON payroll_payslip
    FOR EACH ROW EXECUTE FUNCTION payroll_refuse_change();
CREATE TRIGGER payroll_payslipline_final BEFORE UPDATE OR DELETE ON payroll_payslipline
    FOR EACH ROW EXECUTE FUNCTION payroll_refuse_change();
CREATE TRIGGER payroll_reimbursedinvoice_final
    BEFORE UPDATE OR DELETE ON payroll_reimbursedinvoice
    FOR EACH ROW EXECUTE FUNCTION payroll_refuse_change();

CREATE TRIGGER payroll_payslip_run_open AFTER INSERT ON payroll_payslip
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payroll_payslip_run_open();
CREATE TRIGGER payroll_payslipline_run_open AFTER INSERT ON payroll_payslipline
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payroll_part_run_open();
CREATE TRIGGER payroll_reimbursedinvoice_run_open AFTER INSERT ON payroll_reimbursedinvoice
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payroll_part_run_open();

CREATE TRIGGER payroll_salaryrun_guard BEFORE UPDATE OR DELETE ON payroll_salaryrun
    FOR EACH ROW EXECUTE FUNCTION payroll_salaryrun_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS payroll_salaryrun_guard ON payroll_salaryrun;
DROP TRIGGER IF EXISTS payroll_reimbursedinvoice_run_open ON payroll_reimbursedinvoice;
DROP TRIGGER IF EXISTS payroll_payslipline_run_open ON payroll_payslipline;
DROP TRIGGER IF EXISTS payroll_payslip_run_open ON payroll_payslip;
DROP TRIGGER IF EXISTS payroll_reimbursedinvoice_final ON payroll_reimbursedinvoice;
DROP TRIGGER IF EXISTS payroll_payslipline_final ON payroll_payslipline;
DROP TRIGGER IF EXISTS payroll_payslip_final ON payroll_payslip;
DROP FUNCTION IF EXISTS payroll_salaryrun_guard();
DROP FUNCTION IF EXISTS payroll_part_run_open();
DROP FUNCTION IF EXISTS payroll_payslip_run_open();
DROP FUNCTION IF EXISTS payroll_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("payroll", "0003_permanent_contracts")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
