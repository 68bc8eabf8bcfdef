-- id: budget_grand_total_vs_groups
-- severity: error
-- scope: plan
-- reads: budget_stated_totals, budget_lines, budget_items
-- title_vi: Tổng cộng của một cột khác tổng các nhóm
-- title_en: Grand total of a column differs from the sum of the groups
-- message_vi: Phụ lục {appendix}, dòng “{label}”, cột {column_vi}: tổng cộng ghi “{amount_text}” nhưng {groups} nhóm
--   cộng lại được {expected} (chênh lệch {difference}).
-- message_en: Appendix {appendix}, row “{label}”, {column_en}: the grand total states {actual} but the {groups}
--   group(s) add up to {expected} (difference {difference}).
--
-- Each cell of the totals row against the sum of the groups in the same column:
-- a group counts with its subtotal as stated, or with the sum of its lines when
-- its row leaves that cell blank or it has no subtotal row (a group that is its
-- own item, e.g. management costs). Items outside any group count as they are.
WITH groups AS (
    SELECT plan_id, appendix, group_no, budget_level, expenditure_type,
           amount_million_vnd AS amount, stated_unit(amount_million_vnd, amount_text) AS unit
    FROM budget_stated_totals
    WHERE scope = 'group' AND budget_level <> 'all'
), parts AS (
    SELECT coalesce(g.plan_id, s.plan_id) AS plan_id, coalesce(g.appendix, s.appendix) AS appendix,
           coalesce(g.budget_level, s.budget_level) AS budget_level,
           coalesce(g.expenditure_type, s.expenditure_type) AS expenditure_type,
           coalesce(g.amount, s.lines_sum) AS amount, coalesce(g.unit, s.lines_unit) AS unit
    FROM groups g
    FULL JOIN audit_budget_group_sums s USING (plan_id, appendix, group_no, budget_level, expenditure_type)
    UNION ALL
    SELECT plan_id, appendix, budget_level, expenditure_type, amount_million_vnd, unit
    FROM audit_budget_lines
    WHERE group_no IS NULL
), sums AS (
    SELECT plan_id, appendix, budget_level, expenditure_type,
           count(*) AS groups, sum(amount) AS amount, max(unit) AS unit
    FROM parts
    GROUP BY ALL
)
SELECT c.plan_id,
       'budget_stated_totals' AS resource,
       json_object('total_id', 'grand', 'budget_level', c.budget_level,
                   'expenditure_type', c.expenditure_type)::VARCHAR AS row_key,
       coalesce(s.amount, 0) AS expected,
       c.stated AS actual,
       greatest(c.stated_unit, s.unit) * 0.5 AS tolerance,
       c.source_line,
       c.appendix, c.label, c.stated_text AS amount_text, coalesce(s.groups, 0) AS groups,
       budget_column_vi(c.budget_level, c.expenditure_type) AS column_vi,
       budget_column_en(c.budget_level, c.expenditure_type) AS column_en
FROM audit_budget_columns c
LEFT JOIN sums s USING (plan_id, appendix, budget_level, expenditure_type)
WHERE c.stated IS NOT NULL
  AND c.stated <> coalesce(s.amount, 0);
