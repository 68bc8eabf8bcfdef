-- id: budget_grand_total_vs_lines
-- severity: error
-- scope: plan
-- reads: budget_stated_totals, budget_lines, budget_items
-- title_vi: Tổng cộng của một cột khác tổng mọi dòng của cột đó
-- title_en: Grand total of a column differs from the sum of all its lines
-- message_vi: Phụ lục {appendix}, dòng “{label}”, cột {column_vi}: tổng cộng ghi “{amount_text}” nhưng {lines} dòng
--   của bảng cộng lại được {expected} (chênh lệch {difference}).
-- message_en: Appendix {appendix}, row “{label}”, {column_en}: the grand total states {actual} but the table's
--   {lines} line(s) add up to {expected} (difference {difference}).
--
-- Each cell of the totals row against the sum of every item's cell in the same
-- budget column of the same appendix.
SELECT c.plan_id,
       'budget_stated_totals' AS resource,
       json_object('total_id', 'grand', 'budget_level', c.budget_level,
                   'expenditure_type', c.expenditure_type)::VARCHAR AS row_key,
       c.lines_sum AS expected,
       c.stated AS actual,
       greatest(c.stated_unit, c.lines_unit) * 0.5 AS tolerance,
       c.source_line,
       c.appendix, c.label, c.stated_text AS amount_text, c.lines,
       budget_column_vi(c.budget_level, c.expenditure_type) AS column_vi,
       budget_column_en(c.budget_level, c.expenditure_type) AS column_en
FROM audit_budget_columns c
WHERE c.stated IS NOT NULL
  AND c.stated <> c.lines_sum;
