-- id: investment_row_total
-- severity: error
-- scope: plan
-- reads: investments, investment_lines, investment_stated_totals
-- title_vi: Tổng của một hạng mục đầu tư khác tổng phân kỳ theo năm
-- title_en: An investment row's total differs from the sum of its years
-- message_vi: Phụ lục {appendix}, {row_vi}: cột Tổng ghi “{amount_text}” nhưng {years} năm phân kỳ ({years_text})
--   cộng lại được {expected} (chênh lệch {difference}).
-- message_en: Appendix {appendix}, {row_en}: the total column states {actual} but its {years} year(s)
--   ({years_text}) add up to {expected} (difference {difference}).
--
-- Each item with a stated total and at least one stated year, and the totals
-- row (its 'Tổng' cell against its yearly cells).
WITH items AS (
    SELECT i.plan_id, 'investments' AS resource, json_object('item_no', i.item_no)::VARCHAR AS row_key,
           i.appendix, i.stated_total_million_vnd AS actual, i.stated_total_text AS amount_text,
           stated_unit(i.stated_total_million_vnd, i.stated_total_text) AS unit, i.source_line,
           'hạng mục ' || i.item_no_text || ' “' || i.name || '”' AS row_vi,
           'item ' || i.item_no_text || ' “' || i.name || '”' AS row_en,
           count(*) AS years, sum(l.amount_million_vnd) AS expected,
           max(stated_unit(l.amount_million_vnd, l.amount_text)) AS lines_unit,
           string_agg(l.year || ': ' || l.amount_text, '; ' ORDER BY l.year) AS years_text
    FROM investments i
    JOIN investment_lines l USING (plan_id, item_no)
    WHERE i.stated_total_million_vnd IS NOT NULL
    GROUP BY ALL
), totals AS (
    SELECT t.plan_id, 'investment_stated_totals' AS resource,
           json_object('column_key', t.column_key)::VARCHAR AS row_key,
           t.appendix, t.amount_million_vnd AS actual, t.amount_text,
           stated_unit(t.amount_million_vnd, t.amount_text) AS unit, t.source_line,
           'dòng “' || t.label || '”' AS row_vi, 'row “' || t.label || '”' AS row_en,
           count(*) AS years, sum(y.amount_million_vnd) AS expected,
           max(stated_unit(y.amount_million_vnd, y.amount_text)) AS lines_unit,
           string_agg(y.year || ': ' || y.amount_text, '; ' ORDER BY y.year) AS years_text
    FROM investment_stated_totals t
    JOIN investment_stated_totals y ON y.plan_id = t.plan_id AND y.appendix = t.appendix AND y.year IS NOT NULL
    WHERE t.column_key = 'total'
    GROUP BY ALL
)
SELECT plan_id, resource, row_key, expected, actual, greatest(unit, lines_unit) * 0.5 AS tolerance,
       source_line, appendix, amount_text, row_vi, row_en, years, years_text
FROM (SELECT * FROM items UNION ALL SELECT * FROM totals)
WHERE actual <> expected;
