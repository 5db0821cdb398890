-- Base of the schema: nothing but the migrations table, which db.ts creates. Later migrations add the
-- tables of scans (001), remediation (002), audit (003), notifications (004), in that order.
SELECT 1;
