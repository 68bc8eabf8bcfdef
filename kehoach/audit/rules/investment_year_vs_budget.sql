-- id: investment_year_vs_budget
-- severity: error
-- scope: plan
-- reads: investments, investment_lines, investment_stated_totals, plans, budget_stated_totals, budget_lines, budget_items
-- title_vi: Vốn đầu tư của năm kế hoạch ở bảng phân kỳ khác cột chi đầu tư phát triển của bảng kinh phí
-- title_en: The plan year's investment in the phasing table differs from the budget's investment column
-- message_vi: Phụ lục {appendix}, cột năm {year}: tổng vốn đầu tư ghi {actual} nhưng phụ lục {budget_appendix}
--   (bảng kinh phí năm {year}) ghi chi đầu tư phát triển {expected} (chênh lệch {difference}).
-- message_en: Appendix {appendix}, year {year} column: the investment total is {actual} but appendix
--   {budget_appendix} (the budget for {year}) states {expected} of development investment (difference {difference}).
--
-- The budget table is for the plan year: the investment phasing's column for
-- that year (its stated total, or the sum of its items when the totals row
-- leaves it blank) must equal the budget's development-investment columns
-- (all budget levels; each column's stated grand total, or its lines' sum).
WITH phasing AS (
    SELECT i.plan_id, i.appendix, l.year, sum(l.amount_million_vnd) AS amount,
           max(stated_unit(l.amount_million_vnd, l.amount_text)) AS unit, min(l.source_line) AS source_line
    FROM investment_lines l
    JOIN investments i USING (plan_id, item_no)
    GROUP BY ALL
), checked AS (
    SELECT p.plan_id, p.appendix, p.year,
           coalesce(t.amount_million_vnd, p.amount) AS actual,
           coalesce(stated_unit(t.amount_million_vnd, t.amount_text), p.unit) AS unit,
           CASE WHEN t.plan_id IS NULL THEN 'investment_lines' ELSE 'investment_stated_totals' END AS resource,
           CASE WHEN t.plan_id IS NULL THEN json_object('year', p.year)
                ELSE json_object('column_key', t.column_key) END::VARCHAR AS row_key,
           coalesce(t.source_line, p.source_line) AS source_line
    FROM phasing p
    JOIN plans USING (plan_id)
    LEFT JOIN investment_stated_totals t ON t.plan_id = p.plan_id AND t.appendix = p.appendix AND t.year = p.year
    WHERE p.year = plans.plan_year
), budget AS (
    SELECT plan_id, string_agg(DISTINCT appendix, ', ') AS budget_appendix,
           sum(coalesce(stated, lines_sum)) AS amount, max(coalesce(stated_unit, lines_unit)) AS unit
    FROM audit_budget_columns
    WHERE expenditure_type = 'investment'
    GROUP BY ALL
)
SELECT c.plan_id, c.resource, c.row_key,
       b.amount AS expected, c.actual,
       greatest(c.unit, b.unit) * 0.5 AS tolerance,
       c.source_line,
       c.appendix, c.year, b.budget_appendix
FROM checked c
JOIN budget b USING (plan_id)
WHERE c.actual <> b.amount;
