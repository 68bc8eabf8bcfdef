-- id: investment_column_total
-- severity: error
-- scope: plan
-- reads: investments, investment_lines, investment_stated_totals
-- title_vi: Dòng tổng của bảng đầu tư khác tổng các hạng mục trong cột
-- title_en: A column total of the investment table differs from the sum of its items
-- message_vi: Phụ lục {appendix}, dòng “{label}”, cột {column_vi}: ghi “{amount_text}” nhưng {items} hạng mục
--   cộng lại được {expected} (chênh lệch {difference}).
-- message_en: Appendix {appendix}, row “{label}”, {column_en} column: states {actual} but its {items} item(s)
--   add up to {expected} (difference {difference}).
--
-- Each cell of the totals row: a year column against the items' amounts for
-- that year, the 'Tổng' column against the items' stated totals.
WITH columns AS (
    SELECT t.plan_id, t.appendix, t.column_key, t.year, t.label, t.amount_million_vnd AS actual, t.amount_text,
           stated_unit(t.amount_million_vnd, t.amount_text) AS unit, t.source_line
    FROM investment_stated_totals t
), sums AS (
    SELECT c.plan_id, c.column_key, count(l.item_no) AS items, coalesce(sum(l.amount_million_vnd), 0) AS expected,
           max(stated_unit(l.amount_million_vnd, l.amount_text)) AS items_unit
    FROM columns c
    LEFT JOIN investments i ON i.plan_id = c.plan_id AND i.appendix = c.appendix
    LEFT JOIN investment_lines l ON l.plan_id = i.plan_id AND l.item_no = i.item_no AND l.year = c.year
    WHERE c.year IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT c.plan_id, c.column_key, count(i.stated_total_million_vnd),
           coalesce(sum(i.stated_total_million_vnd), 0),
           max(stated_unit(i.stated_total_million_vnd, i.stated_total_text))
    FROM columns c
    LEFT JOIN investments i ON i.plan_id = c.plan_id AND i.appendix = c.appendix
    WHERE c.year IS NULL
    GROUP BY ALL
)
SELECT c.plan_id,
       'investment_stated_totals' AS resource,
       json_object('column_key', c.column_key)::VARCHAR AS row_key,
       s.expected, c.actual,
       greatest(c.unit, s.items_unit) * 0.5 AS tolerance,
       c.source_line,
       c.appendix, c.label, c.amount_text, s.items,
       CASE WHEN c.year IS NULL THEN 'Tổng' ELSE 'năm ' || c.year END AS column_vi,
       CASE WHEN c.year IS NULL THEN 'total' ELSE 'year ' || c.year END AS column_en
FROM columns c
JOIN sums s USING (plan_id, column_key)
WHERE c.actual <> s.expected;
