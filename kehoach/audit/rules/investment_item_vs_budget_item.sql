-- id: investment_item_vs_budget_item
-- severity: error
-- scope: plan
-- reads: investments, investment_lines, plans, budget_items, budget_lines
-- title_vi: Một hạng mục đầu tư ghi số khác với cùng nhiệm vụ trong bảng kinh phí
-- title_en: An investment item's amount differs from the same task in the budget table
-- message_vi: Phụ lục {appendix}, hạng mục {item_no_text}, năm {year}: ghi “{amount_text}” nhưng nhiệm vụ
--   {item_code_text} cùng tên ở phụ lục {budget_appendix} ghi chi đầu tư phát triển “{budget_text}”
--   (chênh lệch {difference}).
-- message_en: Appendix {appendix}, item {item_no_text}, year {year}: states {actual} but task {item_code_text}
--   of the same name in appendix {budget_appendix} states {expected} of development investment
--   (difference {difference}).
--
-- An investment item and a budgeted task are the same when their names are
-- equal (ignoring case and spacing), or when the task's name is the item's
-- followed by a year ('…: Năm 2024'); a name without a year is the plan year's.
WITH inv AS (
    SELECT plan_id, item_no, item_no_text, appendix, lower(regexp_replace(trim(name), '\s+', ' ', 'g')) AS key
    FROM investments
), bud AS (
    SELECT i.plan_id, i.item_code, i.item_code_text, i.appendix, lower(regexp_replace(trim(i.name), '\s+', ' ', 'g')) AS key,
           sum(l.amount_million_vnd) AS amount, max(stated_unit(l.amount_million_vnd, l.amount_text)) AS unit,
           string_agg(l.amount_text, ' + ') AS budget_text
    FROM budget_items i
    JOIN budget_lines l USING (plan_id, item_code)
    WHERE l.expenditure_type = 'investment'
    GROUP BY ALL
), pairs AS (
    SELECT b.*, v.item_no, v.item_no_text, v.appendix AS inv_appendix,
           CASE WHEN b.key = v.key THEN p.plan_year
                ELSE TRY_CAST(regexp_extract(substr(b.key, length(v.key) + 1),
                                             '^\s*[:,–-]?\s*(?:năm\s*)?([0-9]{4})\s*$', 1) AS INTEGER)
           END AS year
    FROM bud b
    JOIN inv v ON v.plan_id = b.plan_id AND starts_with(b.key, v.key)
    JOIN plans p ON p.plan_id = b.plan_id
)
SELECT pr.plan_id,
       'investment_lines' AS resource,
       json_object('item_no', pr.item_no, 'year', pr.year)::VARCHAR AS row_key,
       pr.amount AS expected,
       l.amount_million_vnd AS actual,
       greatest(pr.unit, stated_unit(l.amount_million_vnd, l.amount_text)) * 0.5 AS tolerance,
       l.source_line,
       pr.inv_appendix AS appendix, pr.item_no_text, pr.year, l.amount_text,
       pr.item_code_text, pr.appendix AS budget_appendix, pr.budget_text
FROM pairs pr
JOIN investment_lines l ON l.plan_id = pr.plan_id AND l.item_no = pr.item_no AND l.year = pr.year
WHERE pr.year IS NOT NULL
  AND l.amount_million_vnd <> pr.amount;
