-- id: numbering_duplicate
-- severity: warning
-- scope: plan
-- reads: tasks, budget_items, investments
-- title_vi: Số thứ tự bị trùng
-- title_en: A number is used twice
-- message_vi: Phụ lục {appendix} ({resource}): số {number} đã dùng ở dòng {first_line} lại được dùng cho
--   “{name}” (lưu với mã {code}).
-- message_en: Appendix {appendix} ({resource}): number {number}, already used on line {first_line}, is used
--   again for “{name}” (kept as {code}).
--
-- The parser keeps a repeated number as '<number>-2', '-3', …
SELECT r.plan_id, r.resource, r.row_key, r.source_line, r.appendix, r.number, r.code,
       first.source_line AS first_line,
       coalesce(t.name, b.name, i.name) AS name
FROM audit_numbered_rows r
JOIN audit_numbered_rows first ON first.plan_id = r.plan_id AND first.resource = r.resource
                              AND first.code = r.number
LEFT JOIN tasks t ON r.resource = 'tasks' AND t.plan_id = r.plan_id AND t.task_code = r.code
LEFT JOIN budget_items b ON r.resource = 'budget_items' AND b.plan_id = r.plan_id AND b.item_code = r.code
LEFT JOIN investments i ON r.resource = 'investments' AND i.plan_id = r.plan_id AND i.item_no = r.code
WHERE r.repeat IS NOT NULL;
