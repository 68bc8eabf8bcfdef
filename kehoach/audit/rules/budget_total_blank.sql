-- id: budget_total_blank
-- severity: warning
-- scope: plan
-- reads: budget_stated_totals, budget_lines, budget_items
-- title_vi: Dòng tổng để trống một cột mà các dòng chi tiết có ghi
-- title_en: A totals row leaves blank a column its lines fill
-- message_vi: Phụ lục {appendix}, dòng “{label}”: ô {column_vi} để trống (các ô khác của dòng có ghi, kể cả “-”)
--   trong khi {lines} dòng chi tiết có ghi ở cột này, cộng lại {expected}.
-- message_en: Appendix {appendix}, row “{label}”: the {column_en} cell is blank (the row's other cells state
--   a figure or '-') while {lines} of its line(s) fill this column, adding up to {expected}.
--
-- Blank and '-' are different statements: '-' is an explicit zero, a blank
-- states nothing. A group or totals row that states some columns but leaves
-- blank one that its lines fill (even with '-') is inconsistent in form; when
-- the lines add up to more than zero a figure is missing.
WITH rows_stated AS (
    SELECT DISTINCT plan_id, appendix, total_id, scope, group_no, label, min(source_line) AS source_line
    FROM budget_stated_totals
    WHERE budget_level <> 'all'
    GROUP BY ALL
), filled AS (
    SELECT r.plan_id, r.appendix, r.total_id, r.label, r.source_line,
           g.budget_level, g.expenditure_type, g.lines, g.lines_sum
    FROM rows_stated r
    JOIN audit_budget_group_sums g ON r.scope = 'group' AND g.plan_id = r.plan_id
                                  AND g.appendix = r.appendix AND g.group_no = r.group_no
    UNION ALL
    SELECT r.plan_id, r.appendix, r.total_id, r.label, r.source_line,
           b.budget_level, b.expenditure_type, b.lines, b.lines_sum
    FROM rows_stated r
    JOIN audit_budget_columns b ON r.scope = 'grand' AND b.plan_id = r.plan_id AND b.appendix = r.appendix
    WHERE b.lines > 0
)
SELECT f.plan_id,
       'budget_stated_totals' AS resource,
       json_object('total_id', f.total_id, 'budget_level', f.budget_level,
                   'expenditure_type', f.expenditure_type)::VARCHAR AS row_key,
       f.lines_sum AS expected,
       NULL AS actual,
       f.source_line,
       f.appendix, f.label, f.lines,
       budget_column_vi(f.budget_level, f.expenditure_type) AS column_vi,
       budget_column_en(f.budget_level, f.expenditure_type) AS column_en
FROM filled f
WHERE NOT EXISTS (
    SELECT 1 FROM budget_stated_totals t
    WHERE t.plan_id = f.plan_id AND t.appendix = f.appendix AND t.total_id = f.total_id
      AND t.budget_level = f.budget_level AND t.expenditure_type = f.expenditure_type
);
