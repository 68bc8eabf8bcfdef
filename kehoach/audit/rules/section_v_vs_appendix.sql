-- id: section_v_vs_appendix
-- severity: error
-- scope: plan
-- reads: budget_summary, budget_stated_totals, budget_lines, budget_items
-- title_vi: Kinh phí nêu trong phần kinh phí thực hiện khác phụ lục kinh phí
-- title_en: The funding stated in the text differs from the budget appendix
-- message_vi: Mục {section_id}: {column_vi} ghi “{amount_text}” nhưng phụ lục {budget_appendix} ghi {expected}
--   (chênh lệch {difference}).
-- message_en: Section {section_id}: {column_en} is stated as {actual} in the text but appendix {budget_appendix}
--   gives {expected} (difference {difference}).
--
-- Each figure of the text's funding section (budget_summary) against the budget
-- appendix columns it covers: a level or type 'all' (or 'unspecified', not
-- narrowed by the text) covers every column. A column counts with its stated
-- grand total, or its lines' sum when the totals row leaves it blank. Figures
-- no appendix column covers are not compared. Skipped when the package has no
-- budget_summary table.
WITH columns AS (
    SELECT plan_id, appendix, budget_level, expenditure_type,
           coalesce(stated, lines_sum) AS amount, coalesce(stated_unit, lines_unit) AS unit
    FROM audit_budget_columns
), compared AS (
    SELECT s.plan_id, s.budget_level, s.expenditure_type, s.amount_million_vnd, s.amount_text, s.section_id,
           s.source_line,
           count(c.amount) AS columns, sum(c.amount) AS expected, max(c.unit) AS unit,
           string_agg(DISTINCT c.appendix, ', ') AS budget_appendix
    FROM budget_summary s
    JOIN columns c ON c.plan_id = s.plan_id
     AND (s.budget_level IN ('all', 'unspecified') OR c.budget_level = s.budget_level)
     AND (s.expenditure_type IN ('all', 'unspecified') OR c.expenditure_type = s.expenditure_type)
    WHERE s.amount_million_vnd IS NOT NULL
    GROUP BY ALL
)
SELECT plan_id,
       'budget_summary' AS resource,
       json_object('budget_level', budget_level, 'expenditure_type', expenditure_type)::VARCHAR AS row_key,
       expected,
       amount_million_vnd AS actual,
       greatest(stated_unit(amount_million_vnd, amount_text), unit) * 0.5 AS tolerance,
       source_line,
       section_id, amount_text, budget_appendix,
       budget_column_vi(budget_level, expenditure_type) AS column_vi,
       budget_column_en(budget_level, expenditure_type) AS column_en
FROM compared
WHERE amount_million_vnd <> expected;
