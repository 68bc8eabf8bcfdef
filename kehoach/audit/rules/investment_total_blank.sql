-- id: investment_total_blank
-- severity: warning
-- scope: plan
-- reads: investments, investment_lines
-- title_vi: Hạng mục đầu tư để trống cột Tổng hoặc toàn bộ phân kỳ
-- title_en: An investment item leaves its total or its whole phasing blank
-- message_vi: Phụ lục {appendix}, hạng mục {item_no_text} “{name}”: {state_vi} (tổng phân kỳ: {expected}).
-- message_en: Appendix {appendix}, item {item_no_text} “{name}”: {state_en} (phased: {expected}).
--
-- An item whose 'Tổng' cell is blank while years are phased (expected: their
-- sum), or whose years are all blank while a total is stated.
SELECT i.plan_id,
       'investments' AS resource,
       json_object('item_no', i.item_no)::VARCHAR AS row_key,
       sum(l.amount_million_vnd) AS expected,
       i.stated_total_million_vnd AS actual,
       i.source_line,
       i.appendix, i.item_no_text, i.name,
       CASE WHEN i.stated_total_million_vnd IS NULL
            THEN 'cột Tổng để trống trong khi các năm được phân kỳ'
            ELSE 'cột Tổng ghi “' || i.stated_total_text || '” nhưng không năm nào được phân kỳ' END AS state_vi,
       CASE WHEN i.stated_total_million_vnd IS NULL
            THEN 'the total cell is blank while years are phased'
            ELSE 'the total states ' || i.stated_total_text || ' but no year is phased' END AS state_en
FROM investments i
LEFT JOIN investment_lines l USING (plan_id, item_no)
GROUP BY ALL
HAVING (i.stated_total_million_vnd IS NULL AND count(l.item_no) > 0)
    OR (i.stated_total_million_vnd IS NOT NULL AND count(l.item_no) = 0);
