-- id: agency_unresolved
-- severity: warning
-- scope: plan
-- reads: task_agencies, budget_item_agencies, tasks, budget_items
-- title_vi: Cơ quan không có trong danh mục cơ quan
-- title_en: An agency is not in the agency list
-- message_vi: Phụ lục {appendix}, {row_vi}: cơ quan “{mention}” không có trong danh mục cơ quan
--   (reference/agencies.csv); được giữ nguyên văn.
-- message_en: Appendix {appendix}, {row_en}: agency “{mention}” is not in the agency list
--   (reference/agencies.csv); it is kept as written.
SELECT m.plan_id, 'task_agencies' AS resource,
       json_object('task_code', m.task_code, 'mention_no', m.mention_no)::VARCHAR AS row_key,
       m.source_line, t.appendix, m.mention,
       'nhiệm vụ ' || t.task_code_text AS row_vi, 'task ' || t.task_code_text AS row_en
FROM task_agencies m
JOIN tasks t USING (plan_id, task_code)
WHERE m.agency_id IS NULL
UNION ALL
SELECT m.plan_id, 'budget_item_agencies',
       json_object('item_code', m.item_code, 'mention_no', m.mention_no)::VARCHAR,
       m.source_line, i.appendix, m.mention,
       'nhiệm vụ ' || i.item_code_text, 'budget item ' || i.item_code_text
FROM budget_item_agencies m
JOIN budget_items i USING (plan_id, item_code)
WHERE m.agency_id IS NULL;
