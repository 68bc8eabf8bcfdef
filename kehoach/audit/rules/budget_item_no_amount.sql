-- id: budget_item_no_amount
-- severity: warning
-- scope: plan
-- reads: budget_items, budget_lines
-- title_vi: Nhiệm vụ trong bảng kinh phí không ghi số tiền nào
-- title_en: A budgeted task states no amount
-- message_vi: Phụ lục {appendix}, nhiệm vụ {item_code_text} “{name}”: {state_vi}.
-- message_en: Appendix {appendix}, task {item_code_text} “{name}”: {state_en}.
--
-- An item listed in a budget table whose every amount cell is blank, or only
-- holds '-' (explicit zeros): a figure is probably missing.
SELECT i.plan_id,
       'budget_items' AS resource,
       json_object('item_code', i.item_code)::VARCHAR AS row_key,
       i.source_line,
       i.appendix, i.item_code_text, i.name,
       CASE WHEN count(l.item_code) = 0 THEN 'mọi ô kinh phí đều để trống'
            ELSE 'mọi ô kinh phí đều ghi “-” (bằng 0)' END AS state_vi,
       CASE WHEN count(l.item_code) = 0 THEN 'every amount cell is blank'
            ELSE 'every amount cell is ''-'' (zero)' END AS state_en
FROM budget_items i
LEFT JOIN budget_lines l USING (plan_id, item_code)
GROUP BY ALL
HAVING count(l.item_code) = 0 OR bool_and(l.stated_as = 'dash');
