-- id: budget_total_label
-- severity: error
-- scope: plan
-- reads: budget_stated_totals, budget_lines, budget_items
-- title_vi: Số ghi trong nhãn dòng tổng khác tổng các cột
-- title_en: The figure written in a totals row's label differs from the sum of its columns
-- message_vi: Phụ lục {appendix}, dòng “{label}”: số ghi trong nhãn là {actual} nhưng {columns} cột của dòng này
--   cộng lại được {expected} (chênh lệch {difference}).
-- message_en: Appendix {appendix}, row “{label}”: the label states {actual} but the row's {columns} column(s)
--   add up to {expected} (difference {difference}).
--
-- A totals row may carry its own figure in its label ('Tổng: 256.785,7'); it is
-- compared with the sum of the same row's column cells (or, for a column the
-- row leaves blank, the sum of that column's lines).
WITH cells AS (
    SELECT plan_id, appendix, total_id, budget_level, expenditure_type, amount_million_vnd AS amount,
           stated_unit(amount_million_vnd, amount_text) AS unit
    FROM budget_stated_totals
    WHERE budget_level <> 'all'
), label_rows AS (
    SELECT * FROM budget_stated_totals WHERE budget_level = 'all' AND expenditure_type = 'all'
), columns AS (
    -- the columns of the label's row; a column the row leaves blank counts by its lines
    SELECT l.plan_id, l.appendix, l.total_id,
           count(*) AS columns,
           sum(coalesce(c.amount, CASE WHEN l.scope = 'grand' THEN b.lines_sum END, g.lines_sum, 0)) AS amount,
           max(coalesce(c.unit, CASE WHEN l.scope = 'grand' THEN b.lines_unit END, g.lines_unit)) AS unit
    FROM label_rows l
    JOIN audit_budget_columns b ON b.plan_id = l.plan_id AND b.appendix = l.appendix
    LEFT JOIN cells c ON c.plan_id = l.plan_id AND c.appendix = l.appendix AND c.total_id = l.total_id
                     AND c.budget_level = b.budget_level AND c.expenditure_type = b.expenditure_type
    LEFT JOIN audit_budget_group_sums g ON l.scope = 'group' AND g.plan_id = l.plan_id
                     AND g.appendix = l.appendix AND g.group_no = l.group_no
                     AND g.budget_level = b.budget_level AND g.expenditure_type = b.expenditure_type
    GROUP BY ALL
)
SELECT l.plan_id,
       'budget_stated_totals' AS resource,
       json_object('total_id', l.total_id, 'budget_level', 'all', 'expenditure_type', 'all')::VARCHAR AS row_key,
       c.amount AS expected,
       l.amount_million_vnd AS actual,
       greatest(stated_unit(l.amount_million_vnd, l.amount_text), c.unit) * 0.5 AS tolerance,
       l.source_line,
       l.appendix, l.label, l.amount_text, c.columns
FROM label_rows l
JOIN columns c USING (plan_id, appendix, total_id)
WHERE l.amount_million_vnd <> c.amount;
