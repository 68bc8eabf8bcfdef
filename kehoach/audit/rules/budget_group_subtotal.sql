-- id: budget_group_subtotal
-- severity: error
-- scope: plan
-- reads: budget_stated_totals, budget_lines, budget_items
-- title_vi: Tổng nhóm khác tổng các dòng của nhóm
-- title_en: Group subtotal differs from the sum of the group's lines
-- message_vi: Nhóm {group_no} “{label}”, cột {column_vi}: tổng nhóm ghi “{amount_text}” nhưng {lines} dòng
--   của nhóm cộng lại được {expected} (chênh lệch {difference}).
-- message_en: Group {group_no} “{label}”, {column_en}: the subtotal states {actual} but the group's {lines}
--   line(s) add up to {expected} (difference {difference}).
--
-- For each cell of a group row that states an amount (a number, or '-' for an
-- explicit zero), the sum of the cells its items state in the same budget
-- column. A subtotal stated for a column none of its lines fills must be 0.
SELECT t.plan_id,
       'budget_stated_totals' AS resource,
       json_object('total_id', t.total_id, 'budget_level', t.budget_level,
                   'expenditure_type', t.expenditure_type)::VARCHAR AS row_key,
       coalesce(s.lines_sum, 0) AS expected,
       t.amount_million_vnd AS actual,
       greatest(stated_unit(t.amount_million_vnd, t.amount_text), s.lines_unit) * 0.5 AS tolerance,
       t.source_line,
       t.group_no, t.label, t.amount_text, coalesce(s.lines, 0) AS lines,
       budget_column_vi(t.budget_level, t.expenditure_type) AS column_vi,
       budget_column_en(t.budget_level, t.expenditure_type) AS column_en
FROM budget_stated_totals t
LEFT JOIN audit_budget_group_sums s
       ON s.plan_id = t.plan_id AND s.appendix = t.appendix AND s.group_no = t.group_no
      AND s.budget_level = t.budget_level AND s.expenditure_type = t.expenditure_type
WHERE t.scope = 'group'
  AND t.budget_level <> 'all'
  AND t.amount_million_vnd <> coalesce(s.lines_sum, 0);
